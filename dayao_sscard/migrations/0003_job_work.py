from django.db import migrations, models

# The services that ran each kind of job before a job named its own.
WORK_BY_KIND = {
    "import_list": "roster.services.list_import_run",
    "export": "roster.services.person_export_run",
}


def name_the_work_of_earlier_jobs(apps, schema_editor):
    Job = apps.get_model("dayao_sscard", "Job")
    for kind, work in WORK_BY_KIND.items():
        Job.objects.filter(kind=kind, work="").update(work=work)


class Migration(migrations.Migration):
    dependencies = [
        ("dayao_sscard", "0002_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="work",
            field=models.CharField(
                blank=True,
                help_text="运行该任务的服务函数（模块路径）",
                max_length=200,
                verbose_name="处理函数",
            ),
        ),
        migrations.RunPython(name_the_work_of_earlier_jobs, migrations.RunPython.noop),
    ]
