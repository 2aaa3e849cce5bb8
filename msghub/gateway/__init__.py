"""The web gateway's logic: Kannel-compatible sendsms and its dlr-url callbacks."""
