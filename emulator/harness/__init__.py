"""Tools that check clients and the emulator: conformance, parity, live runs."""
