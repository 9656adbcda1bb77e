"""The registry of department feeds (部门数据对接): one format per sending department.

Every feed has the same row shape — who (``identity_number``), which record of the department
(``record_id``), what (``rule``) and the value (``level`` / ``quantity`` / ``date`` / ``until`` /
``act``) — in CSV or JSON (``docs/feeds/README.md``). What a feed may carry is decided by the
routing table (:class:`jifen.org.models.RuleRoute`) for the feed's departments, which is data
the center edits; :attr:`FeedFormat.rules` lists what the format is documented for (a test
keeps the two in step with the policies in force).
"""

from __future__ import annotations

from dataclasses import dataclass

from jifen.feeds.errors import UnknownFeed


@dataclass(frozen=True, slots=True)
class Column:
    """One column (CSV) or key (JSON) of a feed row."""

    name: str
    required: bool
    en: str
    zh: str


#: Columns of every feed. ``identity_number``, ``record_id`` and ``rule`` are required.
COMMON_COLUMNS: tuple[Column, ...] = (
    Column(
        "identity_number",
        True,
        "the resident's 18-character identity number (GB 11643)",
        "居民身份证号码（18位）",
    ),
    Column(
        "record_id",
        True,
        "the department's own id of the record; the same record_id again is the same fact "
        "(a new value supersedes the old one)",
        "部门业务记录编号；同一编号再次报送视为同一事实（新值替代旧值）",
    ),
    Column("rule", True, "what the row carries: a profile field, a city rule or a deduction code",
           "报送内容：省级字段、市级赋分标准或扣分项代码"),
    Column("level", False, "level code, for rules with levels (education, skills, county ...)",
           "等级代码（学历、技能、县级等）"),
    Column("quantity", False, "a number ≥ 0 (months, years, hours, yuan), for per-unit rules",
           "数量（月、年、小时、元），不小于0"),
    Column("date", False, "YYYY-MM-DD: when the fact happened (required for windowed rules)",
           "日期 YYYY-MM-DD：事实发生之日（有年限的项目必填）"),
    Column("until", False, "YYYY-MM-DD: end of a listing (dishonest-debtor listings only)",
           "日期 YYYY-MM-DD：移出名单之日（仅失信被执行人）"),
    Column("act", False, "deductions: rows with the same act are one act (the highest counts)",
           "扣分项：同一行为编号视为同一行为（按最高扣分）"),
)  # fmt: skip

#: Extra columns of the public-security feed: registration of new residents, permit changes.
PUBLIC_SECURITY_COLUMNS: tuple[Column, ...] = (
    Column("name", False, "registration of a resident not yet known: full name",
           "新登记人员：姓名"),
    Column("town", False, "registration: town or subdistrict (code such as wutong, or 梧桐街道)",
           "新登记人员：镇（街道），代码或名称"),
    Column("permit_number", False, "registration: residence permit number; permit.status rows: "
           "which permit (default: the current one)", "居住证编号"),
    Column("permit_issued_on", False, "registration: YYYY-MM-DD the permit was issued",
           "居住证签发日期 YYYY-MM-DD"),
    Column("status", False, "permit.status rows: valid, awaiting_endorsement, suspended, "
           "cancelled", "居住证状态：valid / awaiting_endorsement / suspended / cancelled"),
    Column("reason", False, "permit.status rows: why the status changed", "状态变更原因"),
)  # fmt: skip

#: The row type of the public-security feed that changes a permit's status (not a scoring rule).
PERMIT_STATUS_RULE = "permit.status"


@dataclass(frozen=True, slots=True)
class FeedFormat:
    """One department feed.

    ``department`` sends the feed (its API token imports it); ``departments`` are the routing
    departments whose rules the feed carries, the sender first (a municipal bureau also
    forwards its provincial counterpart's fields: birth date and residence from the provincial
    public-security system, education level, skills and social insurance).
    """

    code: str
    department: str
    departments: tuple[str, ...]
    zh: str
    en: str
    rules: tuple[str, ...]
    extra_rules: tuple[str, ...] = ()
    registers_residents: bool = False
    extra_columns: tuple[Column, ...] = ()
    notes: str = ""

    @property
    def columns(self) -> tuple[Column, ...]:
        return COMMON_COLUMNS + self.extra_columns

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def formats(self) -> tuple[str, ...]:
        return ("csv", "json")


def _feed(code: str, department: str, zh: str, en: str, rules: tuple[str, ...], **kw) -> FeedFormat:
    departments = kw.pop("departments", (department,))
    return FeedFormat(code, department, departments, zh, en, rules, **kw)


FEEDS: dict[str, FeedFormat] = {
    f.code: f
    for f in (
        _feed(
            "public_security",
            "public_security_bureau",
            "公安局（含省公安厅数据）",
            "Public Security Bureau (with the provincial public-security data)",
            (
                "birth_date",
                "residence_registered_on",
                "residence_months",
                "residence.registered_years",
                "honours.bravery",
                "administrative_detention",
                "drug_compulsory",
                "drug_community",
                "public_order_penalty",
            ),
            departments=("public_security_bureau", "zj_public_security"),
            extra_rules=(PERMIT_STATUS_RULE,),
            registers_residents=True,
            extra_columns=PUBLIC_SECURITY_COLUMNS,
            notes="birth_date rows are checked against the birth date in the identity number; "
            "rows with name and town register a resident the platform does not know yet; "
            "permit.status rows change the status of the residence permit.",
        ),
        _feed(
            "education",
            "education_bureau",
            "教育局（含省教育厅数据）",
            "Education Bureau (with the provincial education data)",
            ("education", "upskilling.degree_upgrade"),
            departments=("education_bureau", "zj_education"),
            notes="education is the highest education level (one current value per resident); "
            "it scores both the provincial item and the city education item.",
        ),
        _feed(
            "hrss",
            "hrss_bureau",
            "人力社保局（含省人力社保厅数据）",
            "Human Resources and Social Security Bureau (with the provincial data)",
            (
                "skills",
                "social_insurance_months",
                "pension_insurance.months",
                "employment.labour_contract",
                "employment.shortage_occupation",
                "talent.talent_code",
                "honours.skill_contest",
                "upskilling.skill_upgrade",
            ),
            departments=("hrss_bureau", "zj_hrss"),
            notes="skills rows add one certificate or title each (the highest scores); "
            "social_insurance_months is the cumulative count in Zhejiang.",
        ),
        _feed("housing_fund", "housing_fund_center", "公积金中心", "Housing Provident Fund Center",
              ("housing_fund.months",)),
        _feed("medical_insurance", "healthcare_security_bureau", "医疗保障局",
              "Healthcare Security Bureau", ("medical_insurance.months",)),
        _feed("tax", "tax_bureau", "税务局", "Tax Bureau", ("income_tax.tax_paid",)),
        _feed("court", "court", "法院", "court",
              ("crime_intentional", "crime_other", "usury", "dishonest_debtor")),
        _feed("natural_resources", "natural_resources_bureau", "自然资源和规划局",
              "Natural Resources and Planning Bureau", ("residence.home_owner",)),
        _feed("health_commission", "health_commission", "卫生健康局", "Health Commission",
              ("charity.blood_donation",)),
        _feed("red_cross", "red_cross", "红十字会", "Red Cross",
              ("charity.stem_cell_donation", "charity.organ_donation_pledge", "charity.donation")),
        _feed("charity_federation", "charity_federation", "慈善总会", "Charity Federation",
              ("charity.donation",)),
        _feed("social_work", "social_work_dept", "社工部", "Social Work Department",
              ("charity.volunteer_hours",)),
        _feed("organisation", "organisation_dept", "组织部", "Organisation Department",
              ("party_member.organisational_life", "party_member.vanguard_award")),
        _feed("market_regulation", "market_regulation", "市场监管局", "Market Regulation Bureau",
              ("innovation.patent", "employment.sole_proprietor")),
        _feed("science_tech", "science_tech_bureau", "科技局", "Science and Technology Bureau",
              ("innovation.tech_award",)),
        _feed("trade_unions", "trade_unions", "总工会", "Federation of Trade Unions",
              ("honours.operation_expert",)),
        _feed("transport", "transport_bureau", "交通运输局", "Transport Bureau",
              ("employment.frontline_post",), notes="front-line posts: freight drivers."),
        _feed("sanitation", "sanitation_center", "综合行政执法局（环卫中心）",
              "Law Enforcement Bureau (Sanitation Center)", ("employment.frontline_post",),
              notes="front-line posts: sanitation workers."),
        _feed("transport_investment", "transport_investment_group", "交投集团",
              "Transport Investment Group", ("employment.frontline_post",),
              notes="front-line posts: bus drivers."),
        _feed("emergency", "emergency_bureau", "应急管理局", "Emergency Management Bureau",
              ("employment.special_operations",)),
        _feed("economy_it", "economy_it_bureau", "经信局",
              "Economy and Information Technology Bureau", ("employment.middle_manager",)),
        _feed("people_congress", "people_congress", "人大机关", "People's Congress office",
              ("employment.deputy",)),
        _feed("cppcc", "cppcc", "政协机关", "CPPCC office", ("employment.cppcc_member",)),
        _feed("petitions", "petitions_bureau", "信访局", "Petitions Bureau",
              ("petition_disorder",)),
        _feed("waste_sorting", "waste_sorting_office", "垃圾分类办", "Waste Sorting Office",
              ("waste_sorting_penalty",)),
    )
}  # fmt: skip


def get_feed(code: str) -> FeedFormat:
    """The feed with this code; raises :class:`UnknownFeed`."""
    try:
        return FEEDS[code]
    except KeyError:
        raise UnknownFeed() from None


def feeds_of_department(department_code: str) -> list[FeedFormat]:
    """The feeds a department sends (what its API token may import)."""
    return [f for f in FEEDS.values() if f.department == department_code]
