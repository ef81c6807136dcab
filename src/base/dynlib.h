/*
 * dynlib.h -- a shared library loaded on first use instead of linked: the
 * one loader behind store/lazylib.c (libpq, libcurl) and src/loc/lazygeod.c
 * (the geodesic module, libheimdall-geodesic.so: GeographicLib, C++).
 *
 * Why: every linked library is loaded, relocated and initialized at every
 * start of heimdall-rec, used or not. libpq and libcurl brought 28 more
 * shared objects (~11 ms of CPU at each start), the geodesic module
 * libstdc++ (~3 ms), for commands that never use them (bench/README.md).
 *
 * How: a module (the "list") defines the library's functions it calls
 * with their own names and prototypes (from the library's header); each
 * forwards to the real function, found with dlsym() when the library is
 * first loaded. The program does not link the library, only compiles
 * against its headers.
 *
 *	#define FOO_FUNCS(X, V) \
 *		X(int, foo_open, (const char *p), (p)) \
 *		V(foo_free, (struct foo *f), (f))
 *	FOO_FUNCS(DYNLIB_PTR, DYNLIB_PTRV)	// static pointers real_<name>
 *	static const struct dynlib_sym foo_syms[] = {
 *		FOO_FUNCS(DYNLIB_SYM, DYNLIB_SYMV) { NULL, NULL } };
 *	static struct dynlib foo = DYNLIB_INIT("libfoo.so.1", foo_syms);
 *	#define FOO_FWD(r, n, p, a)	DYNLIB_FWD(foo, r, n, p, a)
 *	#define FOO_FWDV(n, p, a)	DYNLIB_FWD_FREE(foo, n, p, a)
 *	FOO_FUNCS(FOO_FWD, FOO_FWDV)		// the forwarding functions
 *	int lazy_foo(char *err, size_t n) { return dynlib_load(&foo, err, n); }
 *
 * The callers check dynlib_load() (through the list's own function) at
 * their entry points, before any other call into the library: a missing
 * library is then a clear error ("cannot load libfoo.so.1: ..."), not a
 * crash. A forwarding function reached without a successful load aborts
 * with the same message (that is a bug in the caller).
 *
 * The soname is the list's choice: the one whose ABI the headers it
 * compiles against describe (each list says why).
 *
 * Thread-safe: the library is opened once per process (the first caller
 * loads it, the others wait); a failure is final. Opened RTLD_LOCAL, so
 * that its symbols do not take over the forwarding functions of the same
 * names, nor another library's.
 */
#ifndef DYNLIB_H
#define DYNLIB_H

#include <pthread.h>
#include <stddef.h>

struct dynlib_sym {
	const char	 *name;
	void		**slot;		/* where dlsym's answer goes */
};

struct dynlib {
	const char		*soname;
	const struct dynlib_sym	*syms;	/* every function, { NULL } last */
	pthread_mutex_t		 lock;
	int			 state;	/* 0 not tried, 1 loaded, -1 failed */
	void			*handle;
	char			 err[256];	/* why it could not be loaded */
	const char		*mod_build;	/* a module of ours: its build */
	const char		*mod_rel;	/* copy, and the installed one's
						   path from the binary's folder
						   (DYNLIB_INIT_MODULE) */
};

#define DYNLIB_INIT(soname, syms) \
	{ (soname), (syms), PTHREAD_MUTEX_INITIALIZER, 0, NULL, "", NULL, NULL }

/*
 * One of this project's own modules (a shared object it builds and
 * installs: the geodesic module, the GSL module). Which copy the first
 * dynlib_load opens is a matter of trust, not only of finding it: dlopen
 * runs its code in this process.
 *
 * - A program that lives in the build folder (heimdall-rec, the unit tests
 *   and benchmarks run from the build tree) loads the build folder's
 *   module (build_path): the one built with it, not an older installed one.
 * - Any other program -- an installed heimdall-rec -- never looks in the
 *   build folder whose path was compiled in: that folder may be gone,
 *   rebuilt from other sources, or writable by someone who must not run
 *   code in a service. It loads the installed module: first the one next
 *   to it (install_rel from the binary's folder, as installed together:
 *   also an install under --destdir or a staged package; "" none), else
 *   install_path (the configured LIBDIR/heimdall-rec/ path).
 *
 * "Lives in the build folder": /proc/self/exe (the kernel's resolved path
 * of the running binary) is under the build folder (the folder of
 * build_path, resolved). A failure anywhere keeps install_path, whose
 * error message then names it.
 */
#define DYNLIB_INIT_MODULE(build_path, install_path, install_rel, syms) \
	{ (install_path), (syms), PTHREAD_MUTEX_INITIALIZER, 0, NULL, "", \
	    (build_path), (install_rel) }

/* Load the library and resolve all its functions (once). 0, or -1 and the
 * reason in err ("cannot load SONAME: ..." or "SONAME has no NAME"); err
 * may be NULL. */
int	dynlib_load(struct dynlib *lib, char *err, size_t errlen);

/* 1 if the library is loaded; never tries to load it. */
int	dynlib_loaded(struct dynlib *lib);

/* Load, or abort naming fn: a forwarding function called without a
 * checked load. */
void	dynlib_need(struct dynlib *lib, const char *fn);

/* The list's shapes (X: returns a value; V: returns nothing). */
#define DYNLIB_PTR(ret, name, params, args) \
	static __typeof__(name) *real_##name;
#define DYNLIB_PTRV(name, params, args) \
	static __typeof__(name) *real_##name;
#define DYNLIB_SYM(ret, name, params, args) \
	{ #name, (void **)&real_##name },
#define DYNLIB_SYMV(name, params, args) \
	{ #name, (void **)&real_##name },

/* Forward to the real function, loading the library if need be. */
#define DYNLIB_FWD(lib, ret, name, params, args) \
ret name params \
{ \
	dynlib_need(&(lib), #name); \
	return real_##name args; \
}
#define DYNLIB_FWD_VOID(lib, name, params, args) \
void name params \
{ \
	dynlib_need(&(lib), #name); \
	real_##name args; \
}
/* A function that frees or resets: nothing of a library never loaded can
 * exist, so it returns at once (and does not load it for that). */
#define DYNLIB_FWD_FREE(lib, name, params, args) \
void name params \
{ \
	if (dynlib_loaded(&(lib))) \
		real_##name args; \
}

#endif
