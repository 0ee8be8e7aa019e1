"""AOS shared core: configuration, database, API base, CLI; imports no module package."""
