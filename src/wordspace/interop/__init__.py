"""Hand-offs to the user's other tools: PyTorch (``wordspace[torch]``) and gensim. Each
module imports its library only when used, and says how to install it when it is missing."""
