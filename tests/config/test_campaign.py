"""The shipped campaign file, the Campaign helpers, and the loader's error messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from config import Campaign, CampaignError, FixedClock, Localized, Settings, load_campaign

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "editions" / "2024" / "campaign.yaml"
BEIJING = ZoneInfo("Asia/Shanghai")
DEADLINE_UTC = datetime(2024, 10, 20, 16, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def campaign() -> Campaign:
    return load_campaign(SHIPPED)


@pytest.fixture
def raw() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict | str) -> Path:
    path = tmp_path / "campaign.yaml"
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_point_at_the_shipped_editions():
    assert Settings(_env_file=None).editions_dir.resolve() == SHIPPED.parent.parent


def test_shipped_file_loads(campaign: Campaign):
    assert campaign.edition == 2024
    assert campaign.name.zh == "2024 科创先锋案例征集"
    assert campaign.name.en == "2024 Sci-Tech Innovation Pioneer Awards"
    assert campaign.organizer.get("zh") == "澎湃新闻"
    assert campaign.committee.mailbox == "kcxf@thepaper.cn"
    assert campaign.committee.location.zh == "澎湃新闻新闻总部（上海）"
    assert len(campaign.awards) == 7
    assert len(campaign.tracks) == 8
    assert len(campaign.product_categories) == 10
    assert [g.id for g in campaign.groups] == ["enterprise", "person", "city", "product"]
    assert [g.name.zh for g in campaign.groups] == ["企业类", "人物类", "城市治理类", "产品类"]


def test_deadline_is_20_october_24_00_beijing(campaign: Campaign):
    assert campaign.deadline == datetime(2024, 10, 21, tzinfo=UTC) - timedelta(hours=8)
    assert campaign.deadline == DEADLINE_UTC
    assert campaign.deadline.utcoffset() == timedelta(hours=8)
    assert "24 点" in campaign.deadline_display.zh


def test_awards_and_their_groups(campaign: Campaign):
    expected = {
        "enterprise_npf": ("年度新质生产力科创企业", "enterprise"),
        "pioneer_engine": ("年度先锋引擎", "enterprise"),
        "rising_potential": ("年度新锐潜力", "enterprise"),
        "pioneer_person": ("年度科创先锋人物", "person"),
        "innovation_park": ("年度科创园区", "city"),
        "innovation_district": ("年度科创街区", "city"),
        "pioneer_product": ("年度科创先锋产品", "product"),
    }
    assert {a.id: (a.name.zh, a.group) for a in campaign.awards} == expected
    assert campaign.award("pioneer_engine").name.en == "Pioneer Engine of the Year"
    assert all(a.summary.zh and a.summary.en and a.criteria for a in campaign.awards)
    assert [a.id for a in campaign.awards_in("city")] == ["innovation_park", "innovation_district"]
    assert len(campaign.awards_in("enterprise")) == 3
    with pytest.raises(KeyError, match="nope"):
        campaign.award("nope")
    with pytest.raises(KeyError, match="citi"):
        campaign.awards_in("citi")


def test_dimensions_and_timeline(campaign: Campaign):
    assert [d.name.zh for d in campaign.dimensions_of("enterprise")] == [
        "所属行业赛道",
        "融资进展",
        "创新评级",
        "创新投入",
        "知识产权资产",
    ]
    assert [d.name.zh for d in campaign.dimensions_of("product")] == [
        "创新性",
        "科技性",
        "前沿性",
        "应用性",
        "市场潜力",
    ]
    assert [p.id for p in campaign.timeline] == ["launch", "application", "review", "results"]
    application = campaign.timeline[1]
    assert application.display.zh == "2024年9月中旬-10月20日"
    assert application.end == campaign.deadline.date() - timedelta(days=1)


def test_localized_get():
    text = Localized(zh="你好", en="Hello")
    assert (text.get("zh"), text.get("en"), text.get("en-GB"), text.get("zh-hans"), text.get("de")) == (
        "你好",
        "Hello",
        "Hello",
        "你好",
        "你好",
    )


@pytest.mark.parametrize(
    ("instant", "is_open"),
    [
        (datetime(2024, 10, 20, 23, 59, 59, tzinfo=BEIJING), True),  # the last second
        (datetime(2024, 10, 21, 0, 0, 0, tzinfo=BEIJING), False),  # 10月20日24点 itself
        (datetime(2024, 9, 15, 9, 0, tzinfo=BEIJING), True),
        (datetime(2024, 11, 1, 9, 0, tzinfo=BEIJING), False),
    ],
)
def test_is_open_with_fixed_clock(campaign: Campaign, instant: datetime, is_open: bool):
    clock = FixedClock(instant)
    assert campaign.is_open(clock.now()) is is_open


def test_is_open_across_zones(campaign: Campaign):
    clock = FixedClock(DEADLINE_UTC - timedelta(seconds=1))
    assert campaign.is_open(clock.now())
    clock.advance(timedelta(seconds=1))
    assert not campaign.is_open(clock.now())


def test_is_open_refuses_naive_time(campaign: Campaign):
    with pytest.raises(ValueError, match="timezone-aware"):
        campaign.is_open(datetime(2024, 10, 1))  # noqa: DTZ001 - the point of the test


def test_subject(campaign: Campaign):
    assert (
        campaign.subject("pioneer_product", " 上海某某科技有限公司 ")
        == "参选类别（年度科创先锋产品）+ 上海某某科技有限公司"
    )
    with pytest.raises(KeyError):
        campaign.subject("nope", "某公司")
    with pytest.raises(ValueError, match="empty"):
        campaign.subject("pioneer_product", "  ")


# --- malformed files -------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(CampaignError, match="not found") as info:
        load_campaign(path)
    assert str(path) in str(info.value)


def test_bad_yaml_names_the_line(tmp_path: Path):
    path = write(tmp_path, "edition: 2024\nname:\n  zh: x\n en: y\n")
    with pytest.raises(CampaignError, match="YAML syntax error") as info:
        load_campaign(path)
    assert f"{path}:4:" in str(info.value)


def test_empty_file(tmp_path: Path):
    with pytest.raises(CampaignError, match="top level must be a mapping"):
        load_campaign(write(tmp_path, ""))


def test_unknown_group(tmp_path: Path, raw: dict):
    raw["awards"][3]["group"] = "people"
    path = write(tmp_path, raw)
    with pytest.raises(CampaignError) as info:
        load_campaign(path)
    message = str(info.value)
    assert str(path) in message
    assert "awards[3].group" in message
    assert "unknown group 'people'" in message
    ((key, line, _),) = info.value.problems
    assert key == "awards[3].group"
    assert path.read_text(encoding="utf-8").splitlines()[line - 1].strip() == "group: people"


def test_duplicate_award_id(tmp_path: Path, raw: dict):
    raw["awards"][4]["id"] = raw["awards"][0]["id"]
    path = write(tmp_path, raw)
    with pytest.raises(CampaignError, match=r"awards\[4\]\.id: duplicate id 'enterprise_npf'") as info:
        load_campaign(path)
    assert str(path) in str(info.value)


def test_duplicate_track_and_category_ids(tmp_path: Path, raw: dict):
    raw["tracks"][7]["id"] = raw["tracks"][1]["id"]
    raw["product_categories"][9]["id"] = raw["product_categories"][0]["id"]
    with pytest.raises(CampaignError) as info:
        load_campaign(write(tmp_path, raw))
    assert [key for key, _, _ in info.value.problems] == ["tracks[7].id", "product_categories[9].id"]


def test_naive_deadline(tmp_path: Path, raw: dict):
    raw["deadline"] = "2024-10-21T00:00:00"
    path = write(tmp_path, raw)
    with pytest.raises(CampaignError, match=r"deadline: must carry a UTC offset") as info:
        load_campaign(path)
    assert str(path) in str(info.value)


def test_missing_key(tmp_path: Path, raw: dict):
    del raw["committee"]["mailbox"]
    del raw["awards"][2]["summary"]
    path = write(tmp_path, raw)
    with pytest.raises(CampaignError) as info:
        load_campaign(path)
    message = str(info.value)
    assert str(path) in message
    assert "2 problems" in message
    assert "committee.mailbox: Field required" in message
    assert "awards[2].summary: Field required" in message


def test_misspelt_key(tmp_path: Path, raw: dict):
    raw["awards"][0]["criterias"] = raw["awards"][0].pop("criteria")
    with pytest.raises(CampaignError) as info:
        load_campaign(write(tmp_path, raw))
    assert {key for key, _, _ in info.value.problems} == {"awards[0].criteria", "awards[0].criterias"}


def test_every_error_is_listed(tmp_path: Path, raw: dict):
    raw["awards"][1]["group"] = "nowhere"
    raw["awards"][2]["id"] = "enterprise_npf"
    raw["groups"][3]["dimensions"].append("vibes")
    with pytest.raises(CampaignError) as info:
        load_campaign(write(tmp_path, raw))
    assert [key for key, _, _ in info.value.problems] == [
        "awards[2].id",
        "awards[1].group",
        "groups[3].dimensions[5]",
    ]


def test_subject_format_needs_both_placeholders(tmp_path: Path, raw: dict):
    raw["subject_format"] = "参选类别（{award}）"
    with pytest.raises(CampaignError, match=r"subject_format: must use exactly \{award\} and \{entrant\}"):
        load_campaign(write(tmp_path, raw))


def test_phase_out_of_order(tmp_path: Path, raw: dict):
    raw["timeline"][2]["end"] = "2024-10-01"
    with pytest.raises(CampaignError, match=r"timeline\[2\]: start 2024-10-21 is after end 2024-10-01"):
        load_campaign(write(tmp_path, raw))


def test_models_are_frozen(campaign: Campaign):
    with pytest.raises(ValueError, match="frozen"):
        campaign.awards[0].group = "person"


def test_reference_errors_listed_beside_field_errors(tmp_path: Path, raw: dict):
    raw["deadline"] = "2024-10-21T00:00:00"
    raw["awards"][1]["group"] = "nowhere"
    with pytest.raises(CampaignError) as info:
        load_campaign(write(tmp_path, raw))
    assert [key for key, _, _ in info.value.problems] == ["awards[1].group", "deadline"]
