/*
 * tool.h: what every tool prints the same way.
 */

struct hd_batch_item;

void	tool_warn_lines(const char *);
void	tool_say_warnings(void);
int	tool_report_failed(const struct hd_batch_item *, void *);
