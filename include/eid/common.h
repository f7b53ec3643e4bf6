/**
 * @file eid/common.h
 * @brief Conventions shared by every libeid module: export macro, error
 *        codes and the thread-local error detail, byte buffers, secure
 *        wiping, logging and atomic file output.
 *
 * Every function that can fail returns 0 (EID_OK) or a negative eid_error_code;
 * the human-readable detail of the last failure on the calling thread is read
 * with eid_error_last().  Codes are never renumbered.
 */
#ifndef EID_COMMON_H
#define EID_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <eid/version.h>

#if defined(_WIN32)
#  define EID_EXTERN __declspec(dllexport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define EID_EXTERN __attribute__((visibility("default")))
#else
#  define EID_EXTERN
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#  define EID_WARN_UNUSED __attribute__((warn_unused_result))
#else
#  define EID_WARN_UNUSED
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Error codes.  Ranges: common -1..-99, token -100..-199, card -200..-299,
 * pki -300..-399, signature formats -400..-499, verification -500..-599.
 * A bad signature is never an error code: it is a verdict in an eid_report.
 */
typedef enum eid_error_code {
	EID_OK = 0,
	/* common */
	EID_EINVAL = -1,        /**< invalid argument */
	EID_ENOMEM = -2,        /**< out of memory */
	EID_EIO = -3,           /**< reading or writing a file failed */
	EID_ENOTFOUND = -4,     /**< the thing asked for does not exist */
	EID_EUNSUPPORTED = -5,  /**< not supported (yet) */
	EID_EFORMAT = -6,       /**< malformed input */
	EID_ECANCELED = -7,     /**< the user or a callback cancelled */
	EID_EVERSION = -8,      /**< an options structure of an unknown version */
	EID_EINTERNAL = -9,     /**< a bug or an unexpected library failure */
	EID_ETOOBIG = -10,      /**< input beyond the library's limits */
	/* token */
	EID_EMODULE = -100,     /**< the PKCS#11 module cannot be loaded or initialised */
	EID_ENOTOKEN = -101,    /**< no token matches the selection */
	EID_ENOKEY = -102,      /**< no key or certificate matches the selection */
	EID_EPIN_WRONG = -103,  /**< the token rejected the PIN (see the detail for tries) */
	EID_EPIN_LOCKED = -104, /**< the PIN is blocked: nothing was sent */
	EID_EPIN_FINAL_TRY = -105, /**< one try left and the caller did not allow using it */
	EID_EPIN_INVALID = -106,   /**< empty PIN, or length outside the token's limits */
	EID_ETOKEN = -107,      /**< another token or PKCS#11 failure */
	EID_EMECHANISM = -108,  /**< the key or token cannot do the requested algorithm */
	EID_EPASSWORD = -109,   /**< wrong password (PKCS#12) */
	EID_EEXTERNAL = -110,   /**< an external signer: the signature value comes from the caller */
	EID_ETOKEN_REMOVED = -111, /**< the token or card was removed */
	/* card */
	EID_ECARD = -200,       /**< a card or reader failure */
	/* pki */
	EID_ECERT = -300,       /**< a certificate cannot be parsed or used */
	EID_ENETWORK = -301,    /**< a network service failed */
	/* formats */
	EID_ESIGFORMAT = -400   /**< a signature structure cannot be built or parsed */
} eid_error_code;

/** Detail of the last error on the calling thread. */
typedef struct eid_error {
	int code;            /**< an eid_error_code */
	const char *message; /**< never NULL; owned by the library, valid until the next call on this thread */
} eid_error;

/**
 * The last error raised on the calling thread.  Never NULL; after success
 * the code is EID_OK and the message empty.  Thread-safe (thread-local).
 */
EID_EXTERN const eid_error *eid_error_last(void);

/** Clear the calling thread's last error. */
EID_EXTERN void eid_error_clear(void);

/** A static, English description of an error code.  Never NULL. */
EID_EXTERN const char *eid_strerror(int code);

/** The library's version string, e.g. "0.1.0". */
EID_EXTERN const char *eid_version(void);

/**
 * A byte buffer returned by the library.  Initialise with EID_BUF_INIT;
 * release with eid_buf_clear(), which wipes the bytes first.  The caller
 * never free()s @c data itself.
 */
typedef struct eid_buf {
	unsigned char *data;
	size_t len;
	size_t cap;
} eid_buf;

#define EID_BUF_INIT { NULL, 0, 0 }

/** Wipe and free the buffer's bytes and reset it to empty.  Accepts NULL. */
EID_EXTERN void eid_buf_clear(eid_buf *buf);

/** Copy @p len bytes into @p buf, replacing (and wiping) its content.  @return EID_OK or EID_ENOMEM. */
EID_EXTERN int eid_buf_set(eid_buf *buf, const void *data, size_t len);

/** Overwrite @p len bytes at @p p with zeros in a way the compiler cannot elide. */
EID_EXTERN void eid_memzero(void *p, size_t len);

/** Log levels.  The default is EID_LOG_WARN, or the value of $EID_DEBUG (0-5). */
typedef enum eid_log_level {
	EID_LOG_NONE = 0,
	EID_LOG_ERROR = 1,
	EID_LOG_WARN = 2,
	EID_LOG_INFO = 3,
	EID_LOG_DEBUG = 4,
	EID_LOG_TRACE = 5   /**< APDU and PKCS#11 call traces; secrets are redacted */
} eid_log_level;

/** A log sink.  @p msg is one line without a newline. */
typedef void (*eid_log_cb)(eid_log_level level, const char *msg, void *userdata);

/** Set the log level for the whole process. */
EID_EXTERN void eid_log_set_level(eid_log_level level);

/** Send log lines to @p cb instead of stderr; NULL restores stderr.  Not thread-safe against logging in progress. */
EID_EXTERN void eid_log_set_handler(eid_log_cb cb, void *userdata);

/**
 * Write @p len bytes to @p path atomically: a temporary file in the same
 * folder is written, flushed to disk and renamed over @p path.  On failure
 * nothing is left behind and @p path is untouched.
 * @return EID_OK, EID_EIO or EID_EINVAL.
 */
EID_EXTERN int eid_file_write_atomic(const char *path, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
