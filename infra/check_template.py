"""Checks cfn-lint cannot make about infra/: rules this project sets for itself.

- Every SQS event source: the queue's VisibilityTimeout >= 6 x the function's Timeout + the
  batching window (AWS's guidance; cfn-lint's E3505 only asks for 1x), ReportBatchItemFailures on,
  and a redrive policy with a bounded maxReceiveCount on the queue.
- Every schedule's Input is a JSON object with an `action`.
- The functions' environment sets only variables the functions read (the names in
  shared/runtime/src/config.rs `VARIABLES`, plus RUST_LOG), and every one of those without a
  default (the table and the queue URLs): a misspelt name would stop a function at start.
- IAM (issue 12 §3): no statement of a role grants a data action (DynamoDB, SQS, Secrets
  Manager, S3) on `Resource: "*"` or on a wildcard that spans services, and Secrets Manager is
  read only under the `TenantSecretPrefix` parameter, whose default is `cwsync/tenants/` (a
  non-empty prefix ending in `/`).
- infra/events/: every file parses, every file is listed in events/README.md, and a row marked
  `exists` has its file while a row marked `planned` has none (no stubs passed off as done).

Run with the venv that has cfn-lint (its YAML loader understands !Ref, !GetAtt, !Sub):
    python infra/check_template.py [TEMPLATE [EVENTS_DIR [CONFIG_RS]]]
Exit status 1 and one line per problem when something is wrong.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from cfnlint.decode import decode

INFRA = Path(__file__).resolve().parent
VISIBILITY_FACTOR = 6
MAX_RECEIVE_COUNT_LIMIT = 10
DEFAULT_LAMBDA_TIMEOUT = 3
DEFAULT_VISIBILITY_TIMEOUT = 30
CONFIG_RS = INFRA.parent / "shared" / "runtime" / "src" / "config.rs"
# Read by the tracing subscriber (shared/runtime/src/telemetry.rs), not by Config.
OTHER_VARIABLES = {"RUST_LOG"}


def getatt_target(value: object) -> str | None:
    """The logical id of `!GetAtt X.Arn` (either spelling), or None."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        if isinstance(target, str):
            return target.split(".", 1)[0]
        if isinstance(target, list) and target:
            return str(target[0])
    return None


def check_template(path: Path) -> list[str]:
    template, matches = decode(str(path))
    if matches or template is None:
        return [f"{path}: cannot be read: {m}" for m in matches] or [f"{path}: cannot be read"]
    problems: list[str] = []
    resources = template.get("Resources", {})
    global_timeout = template.get("Globals", {}).get("Function", {}).get("Timeout", DEFAULT_LAMBDA_TIMEOUT)
    global_receive_count = (
        template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}).get("MAX_RECEIVE_COUNT")
    )

    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {})
        timeout = props.get("Timeout", global_timeout)
        if not isinstance(timeout, int):
            problems.append(f"{name}: Timeout must be a literal number so the queue sizing can be checked")
            continue
        for event_name, event in props.get("Events", {}).items():
            kind = event.get("Type")
            eprops = event.get("Properties", {})
            where = f"{name}.Events.{event_name}"
            if kind == "SQS":
                if "ReportBatchItemFailures" not in eprops.get("FunctionResponseTypes", []):
                    problems.append(f"{where}: FunctionResponseTypes must include ReportBatchItemFailures")
                queue_id = getatt_target(eprops.get("Queue"))
                queue = resources.get(queue_id or "", {})
                if queue.get("Type") != "AWS::SQS::Queue":
                    problems.append(f"{where}: Queue must be !GetAtt <queue in this template>.Arn")
                    continue
                qprops = queue.get("Properties", {})
                window = eprops.get("MaximumBatchingWindowInSeconds", 0)
                visibility = qprops.get("VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT)
                needed = VISIBILITY_FACTOR * timeout + window
                if not isinstance(visibility, int) or visibility < needed:
                    problems.append(
                        f"{queue_id}: VisibilityTimeout {visibility} < {needed} "
                        f"(= {VISIBILITY_FACTOR} x {name} Timeout {timeout} + batching window {window})"
                    )
                redrive = qprops.get("RedrivePolicy", {})
                count = redrive.get("maxReceiveCount") if isinstance(redrive, dict) else None
                if not isinstance(count, int) or not 1 <= count <= MAX_RECEIVE_COUNT_LIMIT:
                    problems.append(
                        f"{queue_id}: RedrivePolicy.maxReceiveCount must be 1..{MAX_RECEIVE_COUNT_LIMIT} "
                        f"(found {count!r}) so a poison message reaches the DLQ"
                    )
                # The function must know which delivery is the last, to record why a job gave up.
                told = props.get("Environment", {}).get("Variables", {}).get("MAX_RECEIVE_COUNT", global_receive_count)
                if str(told) != str(count):
                    problems.append(
                        f"{name}: MAX_RECEIVE_COUNT {told!r} is not {queue_id}'s maxReceiveCount {count!r}: "
                        "a job failing on its last delivery would not record why"
                    )
            elif kind == "ScheduleV2":
                raw = eprops.get("Input")
                try:
                    payload = json.loads(raw) if isinstance(raw, str) else None
                except json.JSONDecodeError:
                    payload = None
                if not isinstance(payload, dict) or not isinstance(payload.get("action"), str):
                    problems.append(f"{where}: Input must be a JSON object with an `action` (found {raw!r})")
    return problems


CONST = re.compile(r'pub const ([A-Z0-9_]+): &str = "([^"]+)";')
VARIABLES = re.compile(r"pub const VARIABLES: \[&str; \d+\] = \[([^\]]*)\]")


def config_variables(config_rs: Path) -> tuple[set[str], set[str]]:
    """The variables Config reads, and those of them without a default (no `DEFAULT_<name>`
    constant; SECRET_CACHE_TTL_SECONDS has DEFAULT_SECRET_CACHE_TTL)."""
    text = config_rs.read_text()
    consts = dict(CONST.findall(text))
    listed = VARIABLES.search(text)
    if listed is None:
        return set(), set()
    names = [n.strip() for n in listed.group(1).split(",") if n.strip()]
    read = {consts.get(n, n) for n in names}
    has_default = {
        consts.get(n, n)
        for n in names
        if re.search(rf"pub const DEFAULT_{re.escape(n.removesuffix('_SECONDS'))}\b", text)
    }
    return read, read - has_default


def check_environment(path: Path, config_rs: Path) -> list[str]:
    template, matches = decode(str(path))
    if matches or template is None:
        return []  # check_template reports it
    read, required = config_variables(config_rs)
    if not read:
        return [f"{config_rs}: no `pub const VARIABLES` list found; cannot check the environment"]
    problems: list[str] = []
    scopes = {"Globals": template.get("Globals", {}).get("Function", {})}
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            scopes[name] = resource.get("Properties", {})
    for where, props in scopes.items():
        variables = props.get("Environment", {}).get("Variables", {})
        for variable in sorted(set(variables) - read - OTHER_VARIABLES):
            problems.append(f"{where}: environment variable {variable} is read by no function (known: {sorted(read)})")
    global_vars = set(scopes["Globals"].get("Environment", {}).get("Variables", {}))
    for name, props in scopes.items():
        if name == "Globals":
            continue
        own = set(props.get("Environment", {}).get("Variables", {}))
        for variable in sorted(required - global_vars - own):
            problems.append(f"{name}: environment variable {variable} (no default: a function that needs it stops at start) is not set")
    return problems


ROW = re.compile(r"^\|\s*`([^`]+\.json)`\s*\|(.*)\|\s*$")


def check_events(folder: Path) -> list[str]:
    problems: list[str] = []
    files = {p.name for p in folder.glob("*.json")}
    for name in sorted(files):
        try:
            event = json.loads((folder / name).read_text())
        except json.JSONDecodeError as e:
            problems.append(f"events/{name}: not valid JSON: {e}")
            continue
        # A console event's file name starts with its action: `{action}-{function}.json`; SQS
        # batches (`sqs-`) and Function URL requests (`url-`) have no action.
        if not name.startswith(("sqs-", "url-")):
            action = event.get("action") if isinstance(event, dict) else None
            if not isinstance(action, str) or not name.startswith(f"{action}-"):
                problems.append(f"events/{name}: action is {action!r}; the file name must start with it")

    listed: dict[str, str] = {}
    for line in (folder / "README.md").read_text().splitlines():
        match = ROW.match(line)
        if match:
            cells = [c.strip() for c in match.group(2).split("|")]
            listed[match.group(1)] = cells[-1]
    for name in sorted(files - listed.keys()):
        problems.append(f"events/{name}: not listed in events/README.md")
    for name, state in sorted(listed.items()):
        if state == "exists" and name not in files:
            problems.append(f"events/README.md: {name} is marked exists but there is no such file")
        if state == "planned" and name in files:
            problems.append(f"events/README.md: {name} exists but is marked planned: mark it exists")
    return problems


# Services whose actions touch tenant data: never granted on every resource.
DATA_SERVICES = ("dynamodb", "sqs", "secretsmanager", "s3")
TENANT_SECRETS = "cwsync/tenants/"


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def _resource_text(resource: object) -> str:
    """A statement's resource as text: a literal, or the template of its `!Sub`."""
    if isinstance(resource, str):
        return resource
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        sub = resource["Fn::Sub"]
        return sub if isinstance(sub, str) else str(sub[0])
    return json.dumps(resource, sort_keys=True)


def check_iam(path: Path) -> list[str]:
    template, matches = decode(str(path))
    if matches or template is None:
        return [f"{path}: cannot be read"]
    problems: list[str] = []
    prefix = template.get("Parameters", {}).get("TenantSecretPrefix", {}).get("Default")
    if prefix != TENANT_SECRETS:
        problems.append(
            f"Parameters.TenantSecretPrefix: the default must be {TENANT_SECRETS!r}, got {prefix!r}"
        )
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::IAM::Role":
            continue
        for policy in resource.get("Properties", {}).get("Policies", []):
            statements = policy.get("PolicyDocument", {}).get("Statement", [])
            for index, statement in enumerate(_as_list(statements)):
                where = f"{name}.{policy.get('PolicyName')}.Statement[{index}]"
                actions = [str(a) for a in _as_list(statement.get("Action", []))]
                data = [a for a in actions if a.split(":", 1)[0].lower() in DATA_SERVICES or a == "*"]
                if not data or statement.get("Effect") != "Allow":
                    continue
                for res in _as_list(statement.get("Resource", [])):
                    text = _resource_text(res)
                    if text == "*" or text.endswith(":*:*") or re.search(r":(dynamodb|sqs|secretsmanager):\*", text):
                        problems.append(f"{where}: {', '.join(data)} granted on {text!r}: name the resources")
                    if any(a.lower().startswith("secretsmanager:") for a in data) and not text.endswith(
                        ":secret:${TenantSecretPrefix}*"
                    ):
                        problems.append(
                            f"{where}: Secrets Manager granted on {text!r}: only the tenants' secrets "
                            "(arn:...:secret:${TenantSecretPrefix}*) may be read"
                        )
    return problems


def main() -> int:
    # Optional arguments (template, events folder) let the checks be tried on broken copies.
    template = Path(sys.argv[1]) if len(sys.argv) > 1 else INFRA / "template.yaml"
    events = Path(sys.argv[2]) if len(sys.argv) > 2 else INFRA / "events"
    config_rs = Path(sys.argv[3]) if len(sys.argv) > 3 else CONFIG_RS
    problems = (
        check_template(template)
        + check_iam(template)
        + check_environment(template, config_rs)
        + check_events(events)
    )
    for problem in problems:
        print(problem)
    if not problems:
        print("infra checks: queue sizing, schedules, IAM, environment and events/ are consistent")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
