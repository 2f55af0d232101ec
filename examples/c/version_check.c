/* Smallest libsfcrm host: built with `pkg-config --cflags --libs sfcrm` by scripts/test-c.sh.
 * Exits non-zero when the header and the library disagree on the version. */
#include <stdio.h>
#include <string.h>

#include "sfcrm.h"

int main(void) {
  printf("sfcrm header %s, library %s\n", SFCRM_VERSION_STRING, sfcrm_version());
  return strcmp(SFCRM_VERSION_STRING, sfcrm_version()) == 0 ? 0 : 1;
}
