class StateCodeConverter:
    """A state's USPS code in a URL: two lower-case letters (`/states/al/`).

    Anything else (upper case, NUL bytes, long strings) never reaches a view or
    the database: the URL simply does not match, which is a 404.
    """

    regex = "[a-z]{2}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value.lower()
