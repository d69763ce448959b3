"""Provider adapters: each translates one provider's wire protocol to the engine."""
