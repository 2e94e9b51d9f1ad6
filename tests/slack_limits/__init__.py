"""Slack's limits tried the way growing workspaces cross them: long lists, long messages,
modals, edits and forged button values (written blind, against issue 17's promises)."""
