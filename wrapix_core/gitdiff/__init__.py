"""A session's work as a diff model: parse ``git diff`` (:mod:`.model`), get it safely
from a repository an agent writes (:mod:`.source`), print it inertly (:mod:`.render`)."""
