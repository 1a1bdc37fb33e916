#!/usr/bin/env python3
"""Drive `stackwiz mcp` with the official MCP Python SDK (PyPI `mcp`), as an agent would.

    python mcp_client.py BINARY SCENARIO

BINARY is the stackwiz executable; it is started as `BINARY mcp [--read-only]` over stdio
with this process's whole environment (the SDK would otherwise pass only HOME, LOGNAME,
PATH, SHELL, TERM and USER). Scenarios:

  protocol   no engine needed: connects in the SDK's default mode (server/discover, the
             2026-07-28 stateless era) and in legacy mode (the initialize handshake); lists
             the tools, calls the ones that need no engine, checks isError results and
             protocol errors, reads resources.
  read-only  the server runs with --read-only: only the read-only tools are listed, and a
             call to another one is refused with isError.
  lifecycle  needs the engine (DOCKER_HOST) and STACKWIZ_TEST_IMAGE: create_stack ->
             get_stack_status -> start_stack -> get_stack_status -> get_stack_logs ->
             remove_stack, plus the isError case of creating the same stack twice. The
             stack name comes from STACKWIZ_TEST_STACK (default mcp-<pid>). stop_stack and
             restart_stack run on the way.
  cancel     STACKWIZ_DOCKER is a docker that hangs after appending its pid to the file
             $STACKWIZ_TEST_DOCKER_PIDS: while list_stacks waits for it, other requests are
             answered; cancelling the call (the SDK sends notifications/cancelled) leaves the
             server serving. In both modes.

The SDK validates every successful result's structuredContent against the tool's
outputSchema, so a schema mismatch fails the run. Exits 0 when every check passed, 1 on
the first failure (printed on stderr), 2 on bad usage.
"""

import asyncio
import json
import os
import sys
import traceback

from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

ALL_TOOLS = [
    "list_templates",
    "validate_stack",
    "create_stack",
    "list_stacks",
    "get_stack_status",
    "get_stack_logs",
    "start_stack",
    "stop_stack",
    "restart_stack",
    "update_stack",
    "remove_stack",
    "check_environment",
    "get_server_ip",
    "list_dns_records",
    "create_dns_record",
    "update_dns_record",
    "delete_dns_record",
    "sync_dns",
]
READ_ONLY_TOOLS = [
    "list_templates",
    "validate_stack",
    "list_stacks",
    "get_stack_status",
    "get_stack_logs",
    "check_environment",
    "get_server_ip",
    "list_dns_records",
]
MODES = {"auto": "2026-07-28", "legacy": "2025-11-25"}
TIMEOUT_S = 300


class Failure(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failure(what)
    print(f"ok: {what}", flush=True)


def connect(binary, mode, read_only=False):
    args = ["mcp"] + (["--read-only"] if read_only else [])
    params = StdioServerParameters(command=binary, args=args, env=dict(os.environ))
    return Client(params, mode=mode)


async def call(client, name, arguments):
    """A successful call: the SDK has already checked structuredContent against the schema."""
    result = await client.call_tool(name, arguments)
    text = result.content[0].text if result.content else ""
    if result.is_error:
        raise Failure(f"{name}({json.dumps(arguments)}) failed: {text}")
    structured = result.structured_content
    check(isinstance(structured, dict), f"{name} returns an object as structuredContent")
    check(json.loads(text) == structured, f"{name} repeats its structuredContent as text")
    return structured


async def call_error(client, name, arguments):
    """A call that must come back as a tool result with isError (not a protocol error)."""
    result = await client.call_tool(name, arguments)
    text = result.content[0].text if result.content else ""
    check(result.is_error, f"{name}({json.dumps(arguments)}) is an isError result: {text!r}")
    return text


async def protocol_error(coroutine, code, what):
    try:
        await coroutine
    except MCPError as e:
        check(e.code == code, f"{what}: JSON-RPC error {e.code} (expected {code}): {e}")
        return
    raise Failure(f"{what}: expected JSON-RPC error {code}, got a result")


async def protocol(binary):
    for mode, version in MODES.items():
        print(f"-- mode={mode}", flush=True)
        async with connect(binary, mode) as client:
            check(client.protocol_version == version, f"{mode} mode speaks {version} (got {client.protocol_version})")
            check(client.server_info is not None and client.server_info.name == "stackwiz", "server is stackwiz")
            check("validate_stack" in (client.instructions or ""), "instructions describe the flow")
            check(client.server_capabilities.tools is not None, "tools capability announced")
            check(client.server_capabilities.resources is not None, "resources capability announced")

            listed = await client.list_tools()
            names = [t.name for t in listed.tools]
            check(names == ALL_TOOLS, f"tools/list in a fixed order: {names}")
            for tool in listed.tools:
                check(tool.output_schema is not None and tool.annotations is not None, f"{tool.name} has outputSchema and annotations")
                check(bool(tool.annotations.title), f"{tool.name} has a title")
                check(tool.input_schema.get("additionalProperties") is False, f"{tool.name} takes no unknown arguments")
            read_only = [t.name for t in listed.tools if t.annotations.read_only_hint]
            check(read_only == READ_ONLY_TOOLS, f"readOnlyHint marks exactly the readers: {read_only}")

            templates = await call(client, "list_templates", {})
            check(any(t["name"] == "generic" for t in templates["templates"]), "list_templates names generic")

            name = f"proto-{mode}"
            valid = await call(client, "validate_stack", {"name": name, "image": "nginx:alpine", "port": 80})
            check(valid["valid"] is True and valid["would_create"]["name"] == name, "validate_stack accepts a good stack")
            invalid = await call(client, "validate_stack", {"name": "Bad_Name", "port": 70000})
            check(invalid["valid"] is False and len(invalid["problems"]) >= 2, f"validate_stack lists every problem: {invalid['problems']}")

            created = await call(client, "create_stack", {"name": name, "image": "nginx:alpine", "port": 80, "environment": {"SECRET_KEY": "s3cr3t-value"}})
            check(created["name"] == name and created["started"] is False, "create_stack writes the stack")
            check("s3cr3t-value" not in json.dumps(created), "create_stack shows no .env value")
            text = await call_error(client, "create_stack", {"name": name, "image": "nginx:alpine", "port": 80})
            check("already exists" in text, "a second create_stack says the stack exists")
            listed_stacks = await call(client, "list_stacks", {})
            check(any(s["name"] == name for s in listed_stacks["stacks"]), "list_stacks shows the new stack")

            text = await call_error(client, "create_stack", {"name": "x", "colour": "red"})
            check("unknown field `colour`" in text, "an unknown argument is named in the error")
            text = await call_error(client, "remove_stack", {"name": name})
            check('"confirm":true' in text, "remove_stack without confirm says how to confirm")
            check("stackwiz " not in text and "--" not in text, "an agent's hint names no CLI command or flag")
            text = await call_error(client, "get_stack_status", {"name": "no-such-stack"})
            check("no stack named no-such-stack" in text, "an unknown stack is an isError result")
            await protocol_error(client.call_tool("no_such_tool", {}), -32602, "an unknown tool")

            # The default domain is localhost: DNS tools never ask Cloudflare about it.
            text = await call_error(client, "create_dns_record", {"subdomain": name})
            check("special-use name" in text, "create_dns_record refuses a *.localhost name")
            gone = await call(client, "delete_dns_record", {"subdomain": name, "stack": name})
            check(gone["zone"] is None and gone["deleted"] == [], "delete_dns_record of a stack at a *.localhost name deletes nothing")

            resources = await client.list_resources()
            uris = [str(r.uri) for r in resources.resources]
            check(f"stack://{name}/compose" in uris and "template://generic" in uris, f"resources/list shows stacks and templates")
            check(not any(u.endswith(".env") for u in uris), "no .env resource")
            compose = await client.read_resource(f"stack://{name}/compose")
            check("nginx:alpine" in compose.contents[0].text, "the compose file reads back")
            check("s3cr3t-value" not in compose.contents[0].text, "the compose file holds no .env value")
            missing_code = -32602 if mode == "auto" else -32002
            await protocol_error(client.read_resource("stack://no-such-stack/compose"), missing_code, "a missing resource")
            templates = await client.list_resource_templates()
            check(len(templates.resource_templates) == 3, "three resource templates")


async def read_only(binary):
    for mode in MODES:
        print(f"-- mode={mode}, --read-only", flush=True)
        async with connect(binary, mode, read_only=True) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            check(names == READ_ONLY_TOOLS, f"read-only lists only the readers: {names}")
            text = await call_error(client, "create_stack", {"name": "ro", "image": "nginx:alpine", "port": 80})
            check("read-only" in text, "create_stack is refused in read-only mode")
            await call(client, "list_templates", {})


async def lifecycle(binary):
    image = os.environ.get("STACKWIZ_TEST_IMAGE", "stackwiz-test/busybox:latest")
    name = os.environ.get("STACKWIZ_TEST_STACK", f"mcp-{os.getpid()}")
    async with connect(binary, "auto") as client:
        created = await call(client, "create_stack", {"name": name, "image": image, "port": 8080})
        check(created["started"] is False, "create_stack without auto_start leaves it stopped")
        status = await call(client, "get_stack_status", {"name": name})
        check(status["status"] == "not started" and status["services"] == [], f"a new stack is not started: {status['status']}")
        started = await call(client, "start_stack", {"name": name})
        check(started["name"] == name, "start_stack starts it")
        status = await call(client, "get_stack_status", {"name": name})
        check(len(status["services"]) == 1, f"get_stack_status shows its container: {status['services']}")
        check(status["services"][0]["image"].startswith(image.split(":")[0]), "the container runs the image")
        logs = await call(client, "get_stack_logs", {"name": name, "tail": 10})
        check(logs["name"] == name and isinstance(logs["logs"], str), "get_stack_logs answers")
        stopped = await call(client, "stop_stack", {"name": name})
        check(stopped["name"] == name, "stop_stack stops it")
        status = await call(client, "get_stack_status", {"name": name})
        check(status["status"] == "stopped", f"a stopped stack is stopped: {status['status']}")
        restarted = await call(client, "restart_stack", {"name": name})
        check(restarted["name"] == name, "restart_stack restarts it")
        text = await call_error(client, "create_stack", {"name": name, "image": image, "port": 8080})
        check("already exists" in text, "creating it again is an isError result")
        text = await call_error(client, "remove_stack", {"name": name, "confirm": False})
        check("confirm" in text, "remove_stack refuses confirm: false")
        removed = await call(client, "remove_stack", {"name": name, "confirm": True, "purge": True})
        check(removed["purged"] is True and removed["trashed_to"] is None, "remove_stack purges it")
        listed = await call(client, "list_stacks", {})
        check(all(s["name"] != name for s in listed["stacks"]), "list_stacks no longer shows it")


def docker_calls(pids):
    try:
        with open(pids) as f:
            return len(f.read().split())
    except FileNotFoundError:
        return 0


async def cancel(binary):
    pids = os.environ["STACKWIZ_TEST_DOCKER_PIDS"]
    for mode in MODES:
        print(f"-- mode={mode}", flush=True)
        async with connect(binary, mode) as client:
            before = docker_calls(pids)
            slow = asyncio.create_task(client.call_tool("list_stacks", {}))
            while docker_calls(pids) == before:
                if slow.done():
                    raise Failure(f"list_stacks ended before it called docker: {slow.result()}")
                await asyncio.sleep(0.02)
            listed = await asyncio.wait_for(client.list_tools(), 20)
            check(len(listed.tools) == len(ALL_TOOLS), "tools/list is answered while list_stacks waits")
            if mode == "legacy":
                await asyncio.wait_for(client.send_ping(), 20)
                check(True, "ping is answered while list_stacks waits")
            templates = await asyncio.wait_for(call(client, "list_templates", {}), 20)
            check(not slow.done(), "list_stacks is still waiting for docker")
            slow.cancel()  # the SDK sends notifications/cancelled for it
            try:
                await slow
            except asyncio.CancelledError:
                pass
            templates = await asyncio.wait_for(call(client, "list_templates", {}), 20)
            check(bool(templates["templates"]), "the server goes on serving after the cancel")


def find_failure(error):
    if isinstance(error, Failure):
        return error
    for inner in getattr(error, "exceptions", ()):
        found = find_failure(inner)
        if found is not None:
            return found
    return None


SCENARIOS = {"protocol": protocol, "read-only": read_only, "lifecycle": lifecycle, "cancel": cancel}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in SCENARIOS:
        print(f"usage: {sys.argv[0]} BINARY {{{'|'.join(SCENARIOS)}}}", file=sys.stderr)
        return 2
    binary, scenario = sys.argv[1], sys.argv[2]
    try:
        asyncio.run(asyncio.wait_for(SCENARIOS[scenario](binary), TIMEOUT_S))
    except BaseException as e:  # the SDK may wrap a failure in exception groups
        failure = find_failure(e)
        if failure is not None:
            print(f"FAIL ({scenario}): {failure}", file=sys.stderr)
            return 1
        print(f"FAIL ({scenario}): {type(e).__name__}: {e}", file=sys.stderr)
        traceback.print_exception(e, file=sys.stderr)
        return 1
    print(f"PASS ({scenario})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
