/*
 * tool.h: what every tool prints the same way.
 */

void	tool_warn_lines(const char *);
void	tool_say_warnings(void);
