/*
 * replay.c: runs a fuzz target over every file of a corpus directory, so
 * that `make test` replays the corpora under the sanitizers without needing
 * libFuzzer. Prints how many inputs ran.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	int count = 0;
	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		if (d == NULL) {
			fprintf(stderr, "%s: cannot open corpus\n", argv[i]);
			return 1;
		}
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
			size_t len;
			char err[256];
			char *data = read_file(path, &len, err, sizeof err);
			if (data == NULL)
				continue;
			LLVMFuzzerTestOneInput((const uint8_t *)data, len);
			free(data);
			count++;
		}
		closedir(d);
	}
	printf("%d inputs\n", count);
	return count > 0 ? 0 : 1;
}
