"""Realistic `/ai-policy` questions, used by the lookup and HTTP benchmarks."""

QUERIES = [
    "can I use copilot on payment code in a regulated service",
    "can I use copilot for auth code in a customer-facing service?",
    "cursor for business logic in an internal tool",
    "secrets in prompts",
    "can i paste customer data into chatgpt",
    "how do I request a new tool",
    "open source contribution with ai",
    "hallucinated packages",
    "i pasted an api key into chatgpt what now",
    "can the agent merge its own pr",
    "mcp servers allowed?",
    "do I need training before using claude code",
    "gemini for data exports in a hipaa system",
    "boilerplate tests in a regulated service",
    "copliot for authentcation",
    "what is the weather like on mars",
    "label ai assisted commits",
    "tabnine self hosted for pci code",
    "",
    "amazon q for terraform in production",
]
