# calc.py -- a recursive-descent evaluator fed by a send-driven tokenizer.
# The tokenizer is sent one character at a time and yields a token when one
# is complete (None while it needs more).  Each grammar rule is a generator
# that takes its tokens with `yield` and returns its value, and the rules
# call each other with `yield from`, recursively:
#   statement = expr ";"       expr = term { ("+" | "-") term }
#   term = factor { ("*" | "/") factor }
#   factor = number | "(" expr ")" | "-" factor


class ParseError(Exception):
    pass


def tokenizer():
    ch = yield None
    while True:
        if ch.isdigit():
            n = 0
            while ch.isdigit():
                n = n * 10 + int(ch)
                ch = yield None
            yield n                  # then on with the character that ended it
        elif ch in "+-*/();":
            yield ch
            ch = yield None
        elif ch == " ":
            ch = yield None
        else:
            raise ParseError(f"bad character '{ch}'")


def name(tok):
    return "end" if tok == ";" else str(tok) if isinstance(tok, int) else f"'{tok}'"


class Parser:
    tok = None


def statement(p):
    p.tok = yield
    v = yield from expr(p)
    if p.tok != ";":
        raise ParseError(f"unexpected {name(p.tok)}")
    return v


def expr(p):
    v = yield from term(p)
    while p.tok in ("+", "-"):
        op = p.tok
        p.tok = yield
        r = yield from term(p)
        v = v + r if op == "+" else v - r
    return v


def term(p):
    v = yield from factor(p)
    while p.tok in ("*", "/"):
        op = p.tok
        p.tok = yield
        r = yield from factor(p)
        if op == "*":
            v = v * r
        elif r == 0:
            raise ParseError("division by zero")
        else:
            v = v // r
    return v


def factor(p):
    if p.tok == "(":
        p.tok = yield
        v = yield from expr(p)
        if p.tok != ")":
            raise ParseError(f"expected ')', got {name(p.tok)}")
        p.tok = yield
        return v
    if p.tok == "-":
        p.tok = yield
        v = yield from factor(p)
        return -v
    if isinstance(p.tok, int):
        v = p.tok
        p.tok = yield
        return v
    raise ParseError(f"unexpected {name(p.tok)}")


def evaluate(text):
    tok = tokenizer()
    next(tok)
    parse = statement(Parser())
    next(parse)
    try:
        for ch in text + ";":
            t = tok.send(ch)
            while t is not None:
                parse.send(t)
                t = next(tok)
    except StopIteration as e:
        return e.value
    raise ParseError("unfinished")


for text in ["1 + 2 * 3", "(1 + 2) * 3", "2 * (3 + 4) * 5 - 6 / 2", "-(-7) - -3",
             "100 / 7 / 2", "-7 / 2", "((((((((((42))))))))))", "1 + * 2", "(1 + 2",
             "6 / (3 - 3)", "2 $ 3", "4 4"]:
    try:
        print(f"{text} = {evaluate(text)}")
    except ParseError as e:
        print(f"{text}: ParseError: {e}")
