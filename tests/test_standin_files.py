"""The Slack stand-in's external file upload, driven by slack_sdk's own `files_upload_v2`:
files.getUploadURLExternal, a POST of the bytes to the upload URL it hands out, then
files.completeUploadExternal. What a person would see is checked through the Web API
(conversations.history / conversations.replies); what was stored through the test accessors.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import FakeSlack

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # a chart, as far as anyone can tell
COMMENT = "AI-coding usage in May: the chart"


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)


async def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value


async def upload_chart(client: AsyncWebClient, **kwargs: Any) -> Any:
    return await client.files_upload_v2(
        file=PNG, filename="usage-2025-05.png", title="Usage, May 2025", **kwargs
    )


async def reserve(client: AsyncWebClient, length: int, filename: str = "chart.png") -> Any:
    return await client.files_getUploadURLExternal(filename=filename, length=length)


async def post_bytes(url: str, data: Any) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.post(url, data=data) as response:
        return response.status, await response.text()


# -- the flow as slack_sdk drives it ----------------------------------------------------


async def test_upload_v2_shares_the_chart_with_its_comment(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    done = await upload_chart(client, channel="C0COE", initial_comment=COMMENT)
    assert done["ok"] is True
    file_id = done["file"]["id"]  # slack_sdk copies a single file to "file"
    assert file_id.startswith("F")
    assert done["files"] == [done["file"]]

    history = await client.conversations_history(channel="C0COE")
    [message] = history["messages"]
    assert message["text"] == COMMENT
    assert message["user"] == slack.bot_user_id
    [shown] = message["files"]
    assert shown["id"] == file_id
    assert shown["name"] == "usage-2025-05.png"
    assert shown["title"] == "Usage, May 2025"
    assert shown["mimetype"] == "image/png"
    assert shown["filetype"] == "png"
    assert shown["size"] == len(PNG)
    assert shown["channels"] == ["C0COE"]
    assert message["upload"] is True

    [stored] = slack.uploaded_files("C0COE")
    assert stored.id == file_id
    assert stored.content == PNG
    assert slack.file_bytes(file_id) == PNG
    assert (stored.name, stored.title, stored.channel) == (
        "usage-2025-05.png",
        "Usage, May 2025",
        "C0COE",
    )
    assert stored.completed
    assert not stored.length_mismatch
    assert stored.shares == {"C0COE": message["ts"]}
    assert slack.messages("C0COE") == [message]


async def test_what_slack_sdk_sends_at_each_step(slack: FakeSlack, client: AsyncWebClient) -> None:
    done = await upload_chart(client, channel="C0COE", initial_comment=COMMENT)
    reserved = slack.calls_to("files.getUploadURLExternal")[0]
    assert reserved.args == {"filename": "usage-2025-05.png", "length": str(len(PNG))}
    assert reserved.token == slack.bot_token
    [post] = slack.upload_posts
    assert post.ok
    assert (post.file_id, post.size) == (done["file"]["id"], len(PNG))
    assert post.url.startswith(slack.base_url)
    completed = slack.calls_to("files.completeUploadExternal")[0]
    assert completed.args == {
        "files": [{"id": done["file"]["id"], "title": "Usage, May 2025"}],
        "channel_id": "C0COE",
        "initial_comment": COMMENT,
    }


async def test_the_bot_token_carries_files_write(slack: FakeSlack, client: AsyncWebClient) -> None:
    reserved = await reserve(client, 3)
    assert "files:write" in reserved.headers["X-OAuth-Scopes"].split(",")


async def test_without_a_channel_the_file_stays_private(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    done = await upload_chart(client)
    assert done["file"]["channels"] == []
    [stored] = slack.uploaded_files()
    assert stored.completed
    assert (stored.channels, stored.channel) == ([], None)
    assert slack.uploaded_files("C0COE") == []
    assert slack.messages("C0COE") == []


async def test_several_files_share_one_message(slack: FakeSlack, client: AsyncWebClient) -> None:
    await client.files_upload_v2(
        file_uploads=[
            {"file": PNG, "filename": "teams.png", "title": "Teams"},
            {"content": "team,seats\nweb,12\n", "filename": "seats.csv"},
        ],
        channel="C0COE",
        initial_comment=COMMENT,
    )
    [message] = (await client.conversations_history(channel="C0COE"))["messages"]
    assert [(f["name"], f["title"], f["mimetype"]) for f in message["files"]] == [
        ("teams.png", "Teams", "image/png"),
        ("seats.csv", "seats.csv", "text/csv"),  # slack_sdk titles it with the filename
    ]
    assert [f.content for f in slack.uploaded_files("C0COE")] == [PNG, b"team,seats\nweb,12\n"]


async def test_a_file_in_a_thread_is_a_reply(slack: FakeSlack, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="C0COE", text="Monthly report")
    await upload_chart(client, channel="C0COE", initial_comment=COMMENT, thread_ts=parent["ts"])
    history = (await client.conversations_history(channel="C0COE"))["messages"]
    assert [m["text"] for m in history] == ["Monthly report"]
    assert history[0]["reply_count"] == 1
    replies = (await client.conversations_replies(channel="C0COE", ts=parent["ts"]))["messages"]
    assert [m["text"] for m in replies] == ["Monthly report", COMMENT]
    assert replies[1]["thread_ts"] == parent["ts"]
    assert replies[1]["files"][0]["title"] == "Usage, May 2025"


async def test_blocks_are_used_without_an_initial_comment(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*May*"}}]
    # slack_sdk passes `blocks` through as a query parameter: it must be a JSON string.
    await upload_chart(client, channel="C0COE", blocks=json.dumps(blocks))
    [message] = slack.messages("C0COE")
    assert message["blocks"] == blocks
    assert message["text"] == ""
    bad = json.dumps([{"type": "no_such_block"}])
    refused = await api_error(upload_chart(client, channel="C0COE", blocks=bad))
    assert refused.response["error"] == "invalid_blocks"
    # "If the initial_comment field is provided, the blocks field is ignored"
    await upload_chart(client, channel="C0COE", blocks=bad, initial_comment=COMMENT)
    assert "blocks" not in slack.messages("C0COE")[-1]


async def test_a_dm_by_user_id(slack: FakeSlack, client: AsyncWebClient) -> None:
    await upload_chart(client, channels=["U0ALICE"], initial_comment="your team's chart")
    [message] = slack.messages("U0ALICE")
    assert message["text"] == "your team's chart"
    [stored] = slack.uploaded_files("U0ALICE")
    assert stored.channel == slack.workspace.conversation_id("U0ALICE")
    assert message["files"][0]["ims"] == [stored.channel]


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "channel", "error"),
    [
        (lambda s: s.archive_channel("C0COE"), "C0COE", "is_archived"),
        (lambda s: s.remove_bot("C0COE"), "C0COE", "not_in_channel"),
        (lambda s: None, "C0NOWHERE", "channel_not_found"),
    ],
)
async def test_channel_refusals_share_nothing(
    slack: FakeSlack, client: AsyncWebClient, setup: Any, channel: str, error: str
) -> None:
    setup(slack)
    refused = await api_error(upload_chart(client, channel=channel, initial_comment=COMMENT))
    assert refused.response["error"] == error
    [stored] = slack.uploaded_files()
    assert not stored.completed
    assert stored.channels == []
    assert slack.workspace.messages.get(channel, []) == []
    # The upload is still there: completing it elsewhere works, once.
    files = [{"id": stored.id, "title": "Usage"}]
    await client.files_completeUploadExternal(files=files, channel_id="C0GENERAL")
    assert slack.uploaded_files("C0GENERAL")[0].title == "Usage"


async def test_unknown_unuploaded_and_completed_files_are_not_found(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    never = await api_error(
        client.files_completeUploadExternal(files=[{"id": "F0NEVER", "title": "x"}])
    )
    assert never.response["error"] == "file_not_found"

    reserved = await reserve(client, 3)
    files = [{"id": reserved["file_id"], "title": "x"}]
    not_uploaded = await api_error(
        client.files_completeUploadExternal(files=files, channel_id="C0COE")
    )
    assert not_uploaded.response["error"] == "file_not_found"

    assert (await post_bytes(reserved["upload_url"], b"abc"))[0] == 200
    await client.files_completeUploadExternal(files=files, channel_id="C0COE")
    again = await api_error(client.files_completeUploadExternal(files=files, channel_id="C0COE"))
    assert again.response["error"] == "file_not_found"  # "can only be called once"
    assert len(slack.messages("C0COE")) == 1


async def test_files_must_be_a_list_of_ids(client: AsyncWebClient) -> None:
    for files in (None, "[]", '{"id": "F1"}', '[{"title": "no id"}]', "not json"):
        params = {} if files is None else {"files": files}
        refused = await api_error(client.api_call("files.completeUploadExternal", params=params))
        assert refused.response["error"] == "invalid_arguments", files


async def test_an_upload_url_takes_the_bytes_once(slack: FakeSlack, client: AsyncWebClient) -> None:
    reserved = await reserve(client, 3)
    assert await post_bytes(reserved["upload_url"], b"abc") == (200, "OK - 3")
    assert (await post_bytes(reserved["upload_url"], b"xyz"))[0] == 404
    unknown = reserved["upload_url"].rsplit("/", 1)[0] + "/not-a-ticket"
    assert (await post_bytes(unknown, b"abc"))[0] == 404
    assert [(p.status, p.error) for p in slack.upload_posts] == [
        (200, None),
        (404, "used_url"),
        (404, "invalid_url"),
    ]
    assert slack.file_bytes(reserved["file_id"]) == b"abc"  # the reuse changed nothing


async def test_a_multipart_upload_is_taken_too(slack: FakeSlack, client: AsyncWebClient) -> None:
    reserved = await reserve(client, len(PNG))
    form = aiohttp.FormData()
    form.add_field("filename", PNG, filename="chart.png", content_type="image/png")
    assert await post_bytes(reserved["upload_url"], form) == (200, f"OK - {len(PNG)}")
    assert slack.file_bytes(reserved["file_id"]) == PNG


async def test_a_size_other_than_declared_is_noted(
    slack: FakeSlack, client: AsyncWebClient, caplog: pytest.LogCaptureFixture
) -> None:
    reserved = await reserve(client, 10)
    with caplog.at_level(logging.WARNING, logger="bot.standin.api_files"):
        assert (await post_bytes(reserved["upload_url"], b"abcd"))[0] == 200
    [stored] = slack.uploaded_files()
    assert (stored.length, stored.size, stored.length_mismatch) == (10, 4, True)
    assert "4 bytes received, 10 declared" in caplog.text


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"filename": "chart.png"}, "invalid_arguments"),
        ({"length": "12"}, "invalid_arguments"),
        ({"filename": "chart.png", "length": "twelve"}, "invalid_arguments"),
        ({"filename": "chart.png", "length": "-1"}, "invalid_arguments"),
        ({"filename": "chart.png", "length": "0"}, "missing_argument"),
        ({"filename": "chart.png", "length": "12", "alt_txt": "x" * 1001}, "alt_txt_too_large"),
        (
            {"filename": "big.py", "length": str(2 * 1024 * 1024), "snippet_type": "python"},
            "snippet_too_large",
        ),
    ],
)
async def test_get_upload_url_refusals(
    slack: FakeSlack, client: AsyncWebClient, params: dict[str, str], error: str
) -> None:
    refused = await api_error(client.api_call("files.getUploadURLExternal", params=params))
    assert refused.response["error"] == error
    assert slack.workspace.files == {}


async def test_a_missing_length_is_named(client: AsyncWebClient) -> None:
    params = {"filename": "chart.png"}
    refused = await api_error(client.api_call("files.getUploadURLExternal", params=params))
    assert refused.response["response_metadata"]["messages"] == [
        "[ERROR] missing required field: length"
    ]


async def test_optional_arguments_reach_the_file(slack: FakeSlack, client: AsyncWebClient) -> None:
    done = await client.files_upload_v2(
        content="print('hi')\n",
        filename="hi.py",
        snippet_type="python",
        alt_txt="a greeting",
        channel="C0COE",
    )
    assert (done["file"]["filetype"], done["file"]["mode"]) == ("python", "snippet")
    assert done["file"]["alt_txt"] == "a greeting"
    assert slack.calls_to("files.getUploadURLExternal")[0].args["alt_txt"] == "a greeting"


# -- faults ---------------------------------------------------------------------------------


async def test_an_injected_error_on_complete_shares_nothing(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.fail("files.completeUploadExternal", error="internal_error")
    refused = await api_error(upload_chart(client, channel="C0COE", initial_comment=COMMENT))
    assert refused.response["error"] == "internal_error"
    assert slack.messages("C0COE") == []
    [stored] = slack.uploaded_files()
    assert not stored.completed
    done = await upload_chart(client, channel="C0COE", initial_comment=COMMENT)  # next one works
    assert [m["files"][0]["id"] for m in slack.messages("C0COE")] == [done["file"]["id"]]


async def test_server_errors_and_rate_limits_on_complete(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.fail("files.completeUploadExternal", status=503)
    assert (await api_error(upload_chart(client, channel="C0COE"))).response.status_code == 503
    slack.rate_limit("files.completeUploadExternal", per_second=0.1, burst=1)
    await upload_chart(client, channel="C0COE")
    limited = await api_error(upload_chart(client, channel="C0COE"))
    assert limited.response.status_code == 429
    assert limited.response["error"] == "ratelimited"
    assert int(limited.response.headers["Retry-After"]) >= 1
    assert len(slack.refused_calls("files.completeUploadExternal")) == 1
    assert len(slack.messages("C0COE")) == 1


async def test_a_rate_limited_upload_url_request(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail("files.getUploadURLExternal", retry_after=2)
    limited = await api_error(upload_chart(client, channel="C0COE"))
    assert (limited.response.status_code, limited.response["error"]) == (429, "ratelimited")
    assert limited.response.headers["Retry-After"] == "2"
    assert slack.upload_posts == []


async def test_a_lost_answer_to_complete_was_still_shared(slack: FakeSlack) -> None:
    """The connection resets after Slack shared the file: slack_sdk's default retry sends
    files.completeUploadExternal again, which Slack takes only once."""
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)  # default retries
    slack.lose_answer("files.completeUploadExternal", "reset")
    refused = await api_error(upload_chart(client, channel="C0COE", initial_comment=COMMENT))
    assert refused.response["error"] == "file_not_found"
    [message] = slack.messages("C0COE")  # shared exactly once
    assert message["text"] == COMMENT
    calls = slack.calls_to("files.completeUploadExternal", ok_only=False)
    assert [(c.ok, c.error) for c in calls] == [(True, None), (False, "file_not_found")]


async def test_a_lost_answer_without_retries(slack: FakeSlack) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url, retry_handlers=[])
    slack.lose_answer("files.completeUploadExternal", "reset")
    with pytest.raises(aiohttp.ClientError):
        await upload_chart(client, channel="C0COE")
    assert len(slack.uploaded_files("C0COE")) == 1


async def test_a_failed_upload_post(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail("file_upload", status=500)
    with pytest.raises(SlackRequestError, match="status: 500"):
        await upload_chart(client, channel="C0COE")
    assert [p.status for p in slack.upload_posts] == [500]
    assert slack.uploaded_files() == []
    assert slack.calls_to("files.completeUploadExternal", ok_only=False) == []
    await upload_chart(client, channel="C0COE")
    assert len(slack.uploaded_files("C0COE")) == 1


async def test_a_revoked_token_is_refused(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.kill_token("token_revoked")
    refused = await api_error(upload_chart(client, channel="C0COE"))
    assert refused.response["error"] == "token_revoked"
    assert slack.workspace.files == {}
