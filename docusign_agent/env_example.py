"""`.env.example`, generated from the settings class so it cannot drift from it.

    uv run python -m docusign_agent.env_example > .env.example
"""

from __future__ import annotations

from docusign_agent.settings import Settings

HEADER = """# Copy to .env and set what you need. Everything is optional: with nothing set, `serve` runs on embedded
# Postgres, an in-process bus/cache, the DocuSign emulator and the offline model. See README.md for each."""


def render() -> str:
    lines = [HEADER]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if default is None:
            value = ""
        elif isinstance(default, bool):
            value = str(default).lower()
        elif isinstance(default, list):
            value = ",".join(str(item) for item in default)
        else:
            value = str(default)
        line = f"# {name.upper()}={value}"
        if field.description:
            line += f" # {field.description}"
        lines.append(line)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
