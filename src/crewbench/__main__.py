"""python -m crewbench"""

from .cli import main

main()
