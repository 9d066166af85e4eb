/*
 * key-print.h: how hdpgp-key prints keys, roles and conflicts as text.
 */
#ifndef HDPGP_KEY_PRINT_H
#define HDPGP_KEY_PRINT_H

#include <time.h>

#include "hdpgp.h"

void	 key_print_line(const struct hd_key *, time_t);
void	 key_print_show(const struct hd_key *, time_t);
void	 key_print_roles(const char *, const struct hd_role *, size_t);
void	 key_warn_roles(const char *, const struct hd_role *, size_t);
void	 key_print_conflict(const struct hd_conflict *);

#endif
