"""factory_boy factories; townships come from the reference-data migration."""

import datetime
import itertools

import factory
from django.utils import timezone

from dayao_sscard.models import Campaign, User
from dayao_sscard.roles import Role
from issuance.models import Bank, BankBranch, BranchTownship
from roster.id_numbers import birth_date_from_id, compute_check_char, gender_from_id
from roster.models import ListEntry, ListKind, Person, PersonClass, SourceList, Township, Village

_sequence = itertools.count(1)


def make_id_number(*, birth: datetime.date = datetime.date(1980, 5, 17), male: bool = True) -> str:
    """A valid, unique 大姚县 ID number."""
    n = next(_sequence)
    seq = (n * 2 + (1 if male else 0)) % 1000
    body = f"532326{birth:%Y%m%d}{seq:03d}"
    if n >= 500:
        # Beyond 500 numbers per birth date, move the date so numbers stay unique.
        body = f"532326{birth + datetime.timedelta(days=n // 500):%Y%m%d}{seq:03d}"
    return body + compute_check_char(body)


def township(code: str) -> Township:
    return Township.objects.get(code=code)


class VillageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Village
        django_get_or_create = ("township", "name")

    township = factory.LazyFunction(lambda: township("532326101"))
    name = factory.Sequence(lambda n: f"测试{n}村委会")


def classify(person: Person, card_class: str, failure_reason: str = "") -> PersonClass:
    """Give a person a comparison result, as a match against some export would."""
    classification, _ = PersonClass.objects.update_or_create(
        person=person,
        defaults={
            "card_class": card_class,
            "failure_reason": failure_reason,
            "classified_at": timezone.now(),
        },
    )
    # Replaces a result (or its absence) cached on the instance by an earlier read.
    person.classification = classification
    return classification


def put_on_list(*persons: Person, kind: str = ListKind.UNISSUED, source: str = "省第一批") -> None:
    """Name the persons on a list, as its import would (the comparison counts listed persons)."""
    source_list, _ = SourceList.objects.get_or_create(
        kind=kind, source=source, defaults={"file_name": f"{source}.xlsx", "file_sha256": source}
    )
    ListEntry.objects.bulk_create(
        [
            ListEntry(source_list=source_list, person=p, row_number=n)
            for n, p in enumerate(persons, 2)
        ]
    )


class PersonFactory(factory.django.DjangoModelFactory):
    """``PersonFactory(card_class="card_failed", card_class__failure_reason="…")`` classifies."""

    class Meta:
        model = Person
        skip_postgeneration_save = True

    id_number = factory.LazyFunction(make_id_number)
    name = factory.Sequence(lambda n: f"李{'一二三四五六七八九十'[n % 10]}{n}")
    gender = factory.LazyAttribute(lambda o: gender_from_id(o.id_number))
    birth_date = factory.LazyAttribute(lambda o: birth_date_from_id(o.id_number))
    ethnicity = "彝族"
    phone = "13887654321"
    address = "大姚县金碧镇大河社区3组"
    occupation = "农民"
    township = factory.LazyFunction(lambda: township("532326101"))
    village = factory.LazyAttribute(lambda o: VillageFactory(township=o.township, name="大河社区"))

    @factory.post_generation
    def card_class(obj, create, extracted, **kwargs):
        if create and extracted:
            classify(obj, extracted, kwargs.get("failure_reason", ""))


class BankFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bank
        django_get_or_create = ("name",)

    name = "云南省农村信用社（大姚县联社）"
    short_name = "农信社"


class BankBranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BankBranch
        django_get_or_create = ("bank", "name")
        skip_postgeneration_save = True

    bank = factory.SubFactory(BankFactory)
    name = "金碧信用社"
    township = factory.LazyFunction(lambda: township("532326101"))

    @factory.post_generation
    def serves(obj, create, extracted, **kwargs):
        """The townships the branch answers for: by default the one it stands in."""
        if not create:
            return
        townships = extracted if extracted is not None else [obj.township]
        for served in townships:
            BranchTownship.objects.get_or_create(
                bank=obj.bank, township=served, defaults={"branch": obj}
            )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.TOWNSHIP_STAFF
    township = factory.LazyFunction(lambda: township("532326101"))
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")

    @factory.post_generation
    def persist(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CampaignFactory(factory.django.DjangoModelFactory):
    """The 2026 work plan's five deadlines (工作方案)."""

    class Meta:
        model = Campaign

    name = "2026年社保卡应发尽发"
    starts_on = datetime.date(2026, 5, 1)
    compare_deadline = datetime.date(2026, 6, 5)
    verify_deadline = datetime.date(2026, 6, 10)
    produce_deadline = datetime.date(2026, 7, 10)
    distribute_deadline = datetime.date(2026, 8, 20)
    activate_deadline = datetime.date(2026, 8, 30)
    is_active = True
