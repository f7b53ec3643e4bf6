/*
 * A PKCS#11 module for the unit tests that forwards every call to a real
 * module ($P11SHIM_MODULE, else $EID_TEST_P11_MODULE) and lets a test observe
 * and steer the login: it counts C_Login calls, can add token flags (PIN
 * count low, final try, locked, pinpad) to C_GetTokenInfo, and plays a pinpad
 * by logging in with a PIN of its own when C_Login gets none.
 *
 * A test loads the same file with dlopen() (the dynamic linker hands back the
 * handle the library already holds) and finds the state under the symbol
 * P11SHIM_STATE.
 */
#ifndef EID_TEST_P11SHIM_H
#define EID_TEST_P11SHIM_H

#define P11SHIM_STATE "p11shim"

typedef struct p11shim_state {
	unsigned long initialize_calls;
	unsigned long finalize_calls;
	unsigned long login_calls;          /* C_Login, any user type */
	unsigned long login_null_pin_calls; /* ... of which without a PIN (pinpad) */
	unsigned long last_login_user;      /* CK_USER_TYPE of the last C_Login */
	unsigned long token_flags_add;      /* OR'ed into CK_TOKEN_INFO.flags */
	char pinpad_pin[32];                /* used for C_Login(NULL); empty: forward NULL */
} p11shim_state;

#endif
