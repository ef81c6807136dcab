/* embed.c -- build tool: turn a file into a C array (the built-in web page).
 *
 *   heimdall-embed NAME INPUT OUTPUT.c
 * writes "const unsigned char NAME[]" (NUL-terminated, not counted) and
 * "const size_t NAME_len". No xxd needed, no dependency at all. */

#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char **argv)
{
	FILE	*in, *out;
	int	 c;
	size_t	 n = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: heimdall-embed NAME INPUT OUTPUT.c\n");
		return 64;
	}
	if ((in = fopen(argv[2], "rb")) == NULL) {
		perror(argv[2]);
		return 66;
	}
	if ((out = fopen(argv[3], "w")) == NULL) {
		perror(argv[3]);
		fclose(in);
		return 73;
	}
	fprintf(out, "/* generated from %s by heimdall-embed: do not edit */\n"
	    "#include <stddef.h>\nconst unsigned char %s[] = {", argv[2],
	    argv[1]);
	while ((c = fgetc(in)) != EOF) {
		fprintf(out, "%s0x%02x,", n % 16 == 0 ? "\n\t" : "", c);
		n++;
	}
	fprintf(out, "\n\t0x00\n};\nconst size_t %s_len = %zu;\n", argv[1], n);
	if (ferror(in) || fclose(out) != 0) {
		fprintf(stderr, "heimdall-embed: I/O error\n");
		fclose(in);
		return 74;
	}
	fclose(in);
	return 0;
}
