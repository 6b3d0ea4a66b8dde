"""python -m crewbench"""

from crewbench.cli.main import main

main()
