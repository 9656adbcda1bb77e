"""Seed the towns of Tongxiang and the departments of the measures' responsibility list.

Both are data the center maintains afterwards (docs/mission.md 四); this is the starting point.
"""

from django.db import migrations

TOWNS = [
    ('wutong', '梧桐街道'),
    ('fengming', '凤鸣街道'),
    ('longxiang', '龙翔街道'),
    ('puyuan', '濮院镇'),
    ('tudian', '屠甸镇'),
    ('wuzhen', '乌镇镇'),
    ('zhouquan', '洲泉镇'),
    ('dama', '大麻镇'),
    ('chongfu', '崇福镇'),
    ('heshan', '河山镇'),
    ('shimen', '石门镇'),
]

DEPARTMENTS = [
    ('zj_public_security', '省公安厅', 'Zhejiang Public Security Department'),
    ('zj_education', '省教育厅', 'Zhejiang Education Department'),
    ('zj_hrss', '省人力社保厅', 'Zhejiang Human Resources and Social Security Department'),
    ('people_congress', '人大机关', "People's Congress office"),
    ('cppcc', '政协机关', 'CPPCC office'),
    ('court', '法院', 'court'),
    ('organisation_dept', '组织部', 'Organisation Department'),
    ('social_work_dept', '社工部', 'Social Work Department'),
    ('petitions_bureau', '信访局', 'Petitions Bureau'),
    ('economy_it_bureau', '经信局', 'Economy and Information Technology Bureau'),
    ('education_bureau', '教育局', 'Education Bureau'),
    ('science_tech_bureau', '科技局', 'Science and Technology Bureau'),
    ('public_security_bureau', '公安局', 'Public Security Bureau'),
    ('hrss_bureau', '人力社保局', 'Human Resources and Social Security Bureau'),
    ('natural_resources_bureau', '自然资源和规划局', 'Natural Resources and Planning Bureau'),
    ('transport_bureau', '交通运输局', 'Transport Bureau'),
    ('health_commission', '卫生健康局', 'Health Commission'),
    ('emergency_bureau', '应急管理局', 'Emergency Management Bureau'),
    ('market_regulation', '市场监管局', 'Market Regulation Bureau'),
    ('healthcare_security_bureau', '医疗保障局', 'Healthcare Security Bureau'),
    ('sanitation_center', '综合行政执法局(环卫中心)', 'Law Enforcement Bureau (Sanitation Center)'),
    ('trade_unions', '总工会', 'Federation of Trade Unions'),
    ('red_cross', '红十字会', 'Red Cross'),
    ('housing_fund_center', '公积金中心', 'Housing Provident Fund Center'),
    ('tax_bureau', '税务局', 'Tax Bureau'),
    ('transport_investment_group', '交投集团', 'Transport Investment Group'),
    ('charity_federation', '慈善总会', 'Charity Federation'),
    ('waste_sorting_office', '垃圾分类办', 'Waste Sorting Office'),
    ('town', '镇(街道)', 'town or subdistrict'),
]


def seed(apps, schema_editor):
    Town = apps.get_model("org", "Town")
    Department = apps.get_model("org", "Department")
    for code, name in TOWNS:
        Town.objects.get_or_create(code=code, defaults={"name": name})
    for code, name, name_en in DEPARTMENTS:
        Department.objects.get_or_create(code=code, defaults={"name": name, "name_en": name_en})


def unseed(apps, schema_editor):
    apps.get_model("org", "Town").objects.filter(code__in=[c for c, _ in TOWNS]).delete()
    apps.get_model("org", "Department").objects.filter(
        code__in=[c for c, _, _ in DEPARTMENTS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("org", "0001_towns_departments_routes")]
    operations = [migrations.RunPython(seed, unseed)]
