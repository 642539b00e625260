"""gradref's catalogue of cases and the machinery that checks an implementation against them."""

from .catalogue import CASES, get, select  # noqa: F401
from .check import CaseResult, Verdict, check_case  # noqa: F401
from .impl import Implementation, ImplementationError, handwritten, load  # noqa: F401
from .spec import Arg, Case, CaseError, Golden, Static  # noqa: F401
