"""The zoo's exceptions: an unknown entry name, and every other zoo failure."""


class ZooError(Exception):
    """A zoo failure: an invalid card, a corrupt file or a failed download.

    The message says which file or URL, what went wrong and what to do.
    """


class UnknownEntryError(ZooError, KeyError):
    """No zoo entry has this name; the message lists the closest names.

    Attributes:
        name: the name asked for.
        suggestions: the closest entry names (`difflib`), best first.
    """

    def __init__(self, message, name=None, suggestions=()):
        super().__init__(message)
        self.name = name
        self.suggestions = list(suggestions)

    def __str__(self):
        # KeyError's str() would show the message in quotes.
        return str(self.args[0])
