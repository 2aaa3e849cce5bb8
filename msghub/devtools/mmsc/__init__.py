"""The MMSC simulator (`msghub simulate mmsc`): MM7 towards the hub."""
