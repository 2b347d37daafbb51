"""confid: view, change and reset audio-conferencing conference IDs over GraphQL."""
