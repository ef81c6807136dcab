/*
 * wsclient.h -- a lean WebSocket client (RFC 6455) on an lws raw socket:
 * the upgrade handshake, frames parsed in bulk, masked writes.
 *
 * Why not lws' own WebSocket client: in libwebsockets 4.1 it parses every
 * received byte through its state machine, and at 12 kS/s of IQ per
 * receiver that was 60 % of the recorder's CPU (callgrind, 50 receivers).
 * Here lws still owns the sockets and the event loop; payloads are
 * handed over without touching each byte. TLS is OpenSSL over memory
 * BIOs (lws 4.1.6 cannot start TLS on a raw client socket), verifying the
 * certificate and host name against the system store (or SSL_CERT_FILE).
 * Everything runs on the loop thread of the context the connection was
 * made on.
 */
#ifndef WSCLIENT_H
#define WSCLIENT_H

#include <stddef.h>

struct lws_context;
struct lws_protocols;
struct wsc;

#define WSC_MAX_MSG	65536	/* larger messages are skipped, unbuffered */

struct wsc_ops {
	/* The upgrade succeeded. */
	void	(*open)(void *ctx);
	/* One whole message (fragments joined). */
	void	(*message)(void *ctx, int binary, const unsigned char *p,
		    size_t n);
	/* The connection is gone (once, unless wsc_close() detached it):
	 * why says what happened. The wsc is freed after this returns. */
	void	(*closed)(void *ctx, const char *why);
};

extern const struct lws_protocols wsc_protocol;

/*
 * Connect to addr:port (numeric) and upgrade with GET path (starting with
 * '/'), Host host:port; tls: through TLS (the certificate must be valid
 * for host). NULL + err if it cannot even start; else callbacks follow
 * on the loop thread: open() then message()s, and closed() in the end.
 * The handshake is checked as RFC 6455 4.1 asks (101, Upgrade, Connection,
 * Sec-WebSocket-Accept, no extension or subprotocol imposed); server
 * frames must be unmasked, without reserved bits, control frames whole and
 * <= 125 bytes; pings are answered, a close frame is echoed. Any breach
 * ends the connection with closed(why). A message over WSC_MAX_MSG is not
 * a breach: it is discarded as it streams by, and the stream goes on.
 */
struct wsc	*wsc_connect(struct lws_context *ctx, const char *addr,
		    int port, int tls, const char *host, const char *path,
		    const struct wsc_ops *ops, void *opctx, char *err,
		    size_t errlen);
/* Queue a text message (masked, one frame). 0, or -1 if closing/full. */
int		 wsc_send_text(struct wsc *w, const char *s, size_t n);
/* End the connection abruptly (queued frames are dropped); closed()
 * follows with why. */
void		 wsc_drop(struct wsc *w, const char *why);
/* Close with a close frame (code) and detach: no callback is made after
 * this returns; the wsc frees itself when the socket is gone. */
void		 wsc_close(struct wsc *w, int code);

#endif
