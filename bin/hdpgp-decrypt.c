/*
 * hdpgp-decrypt: incoming mail decrypted, with the verdicts on its
 * encryption and its signatures.  The same main as hdpgp-verify, told
 * to decrypt: the two differ in nothing else.
 */
#define HD_DECRYPT	1
#include "hdpgp-verify.c"
