"""The SMSC simulator (EMI/UCP): asyncio server, its sessions, HTTP control API, CLI, and a thread wrapper."""
