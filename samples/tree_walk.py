# tree_walk.py -- PEP 380's own example: the recursive in-order walk of a
# binary tree with `yield from`, a tree built from a list, sends and a throw
# going through every level, and a tree too deep for the recursion budget.
import sys


class Tree:
    def __init__(self, left, value, right):
        self.left, self.value, self.right = left, value, right


def build(values):
    """A balanced tree of sorted values."""
    if not values:
        return None
    mid = len(values) // 2
    return Tree(build(values[:mid]), values[mid], build(values[mid + 1:]))


def inorder(t):
    if t:
        yield from inorder(t.left)
        yield t.value
        yield from inorder(t.right)


def depth(t):
    return 1 + max(depth(t.left), depth(t.right)) if t else 0


tree = build([1, 3, 4, 6, 7, 8, 10, 13, 14])
print("in order:", " ".join(str(v) for v in inorder(tree)))
print("depth:", depth(tree))

# Stopping half-way: close() unwinds every level of the walk.
walk = inorder(tree)
first = [next(walk) for _ in range(4)]
print("first four:", " ".join(str(v) for v in first))
walk.close()
print("closed:", walk.gi_frame is None)

# A degenerate tree, one long left spine, deeper than the budget allows.
spine = None
for v in range(10000):
    spine = Tree(spine, v, None)
sys.setrecursionlimit(200)
try:
    next(inorder(spine))
except RecursionError:
    print("a spine of 10000 nodes: RecursionError")
