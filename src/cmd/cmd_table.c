/* cmd_table.c -- every subcommand, in the order --help lists them (cmd.h). */

#include <stddef.h>

#include "src/cmd/cmd.h"

const struct cmd_entry *const cmd_table[] = {
	&cmd_record_entry,
	&cmd_import_entry,
	&cmd_sessions_entry,
	&cmd_export_entry,
	&cmd_sources_entry,
	&cmd_schedule_entry,
	&cmd_serve_entry,
	&cmd_console_entry,
	&cmd_db_entry,
	&cmd_sync_entry,
	&cmd_status_entry,
	NULL
};
