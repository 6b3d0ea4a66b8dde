"""Provider credentials stay visible: crewbench keeps CrewAI's files out of the user's home
without pointing HOME elsewhere (which hid ~/.aws, gcloud and the like from real providers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, os
    from pathlib import Path
    from crewbench.compat.hygiene import import_crewai
    import_crewai()
    import crewai_core.settings as settings
    import crewai.skills.cache as skills
    print("RESULT=" + json.dumps({
        "home": os.environ["HOME"],
        "aws": Path("~/.aws/credentials").expanduser().is_file(),
        "settings": str(settings.DEFAULT_CONFIG_PATH),
        "skills": str(skills._CACHE_ROOT),
    }))
""")


def test_home_stays_the_users_and_crewai_files_stay_in_the_workbench(repo, tmp_path):
    home = tmp_path / "user"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text("[default]\n")
    workbench = tmp_path / "workbench"
    env = {key: value for key, value in os.environ.items() if not key.startswith("CREWAI")}
    env.update(HOME=str(home), CREWBENCH_HOME=str(workbench), PYTHONPATH=str(repo / "src"))
    result = subprocess.run([sys.executable, "-c", SCRIPT], check=False, cwd=repo, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT="))
    found = json.loads(line[len("RESULT="):])
    assert found["home"] == str(home)
    assert found["aws"], "a provider SDK still finds ~/.aws/credentials"
    assert found["settings"].startswith(str(workbench)) and found["skills"].startswith(str(workbench))
    assert sorted(str(p.relative_to(home)) for p in home.rglob("*")) == [".aws", ".aws/credentials"]
