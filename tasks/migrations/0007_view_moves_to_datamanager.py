# The View model now belongs to the datamanager app (datamanager 0001), table unchanged.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('tasks', '0006_drop_redundant_indexes'),
        ('datamanager', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='View')],
            database_operations=[],
        ),
    ]
