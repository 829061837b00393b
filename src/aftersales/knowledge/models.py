"""Knowledge base: versioned articles, the standard service manual, search, suggestions, answer bot."""
