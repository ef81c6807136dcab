/* dynlib.c -- a shared library opened and resolved on first use (see dynlib.h). */

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/base/dynlib.h"

/* Which copy of a module (DYNLIB_INIT_MODULE says why): build_path,
 * install_path, or the one next to the binary (allocated; kept for the
 * process's life as the library's soname). */
static const char *
module_path(const char *build_path, const char *install_path,
    const char *install_rel)
{
	char	 exe[PATH_MAX], dir[PATH_MAX], root[PATH_MAX], buf[PATH_MAX];
	char	*p, *dup;
	ssize_t	 n;
	size_t	 rl;

	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0)
		return install_path;
	exe[n] = '\0';
	snprintf(dir, sizeof dir, "%s", build_path);
	if ((p = strrchr(dir, '/')) != NULL && p != dir) {
		*p = '\0';
		if (realpath(dir, root) != NULL) {
			rl = strlen(root);
			if (strncmp(exe, root, rl) == 0 && exe[rl] == '/')
				return access(build_path, R_OK) == 0 ?
				    build_path : install_path;
		}
	}
	if (install_rel[0] == '\0' || (p = strrchr(exe, '/')) == NULL)
		return install_path;
	*p = '\0';
	if ((size_t)snprintf(buf, sizeof buf, "%s/%s", exe, install_rel) <
	    sizeof buf && access(buf, R_OK) == 0 && (dup = strdup(buf)) != NULL)
		return dup;
	return install_path;
}

/* Under lib->lock. 0, or -1 with lib->err set and nothing left open. */
static int
open_lib(struct dynlib *lib)
{
	const char	*e;

	/* RTLD_LOCAL: its symbols do not take over ours (the forwarding
	 * functions have the same names). */
	lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	if (lib->handle == NULL) {
		e = dlerror();
		snprintf(lib->err, sizeof lib->err, "cannot load %s: %s",
		    lib->soname, e != NULL ? e : "unknown error");
		return -1;
	}
	for (const struct dynlib_sym *s = lib->syms; s->name != NULL; s++) {
		void	*p = dlsym(lib->handle, s->name);

		if (p == NULL) {
			snprintf(lib->err, sizeof lib->err, "%s has no %s",
			    lib->soname, s->name);
			dlclose(lib->handle);
			lib->handle = NULL;
			return -1;
		}
		*s->slot = p;
	}
	return 0;
}

int
dynlib_load(struct dynlib *lib, char *err, size_t errlen)
{
	/* Acquire: a thread that sees 1 also sees the pointers. */
	int	st = __atomic_load_n(&lib->state, __ATOMIC_ACQUIRE);

	if (st == 0) {
		pthread_mutex_lock(&lib->lock);
		st = lib->state;
		if (st == 0) {
			if (lib->mod_build != NULL)
				lib->soname = module_path(lib->mod_build,
				    lib->soname, lib->mod_rel);
			st = open_lib(lib) == 0 ? 1 : -1;
			__atomic_store_n(&lib->state, st, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&lib->lock);
	}
	if (st == 1)
		return 0;
	/* lib->err is written once, before state is, and never again */
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", lib->err);
	return -1;
}

int
dynlib_loaded(struct dynlib *lib)
{
	return __atomic_load_n(&lib->state, __ATOMIC_ACQUIRE) == 1;
}

void
dynlib_need(struct dynlib *lib, const char *fn)
{
	if (dynlib_load(lib, NULL, 0) == 0)
		return;
	fprintf(stderr, "heimdall-rec: %s called, but %s\n", fn, lib->err);
	abort();
}
