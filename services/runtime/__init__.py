"""What all four services share: config, secrets, the bus, the consume loop, logging, the CLI."""
