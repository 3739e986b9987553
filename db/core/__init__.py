"""The plumbing every feature stands on: engine, configuration, migrations, errors, the change feed,
scheduled jobs, scratch databases."""
