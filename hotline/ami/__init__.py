"""Asterisk Manager Interface: a protocol core without IO and its asyncio client."""
