/* A forwarding PKCS#11 module that observes logins (see p11shim.h). */
#include "config.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>

#include "p11shim.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

extern SHIM_EXPORT p11shim_state p11shim;
SHIM_EXPORT p11shim_state p11shim;

static void *real_dl;
static CK_FUNCTION_LIST_PTR real;
static CK_FUNCTION_LIST shim;

static CK_RV shim_initialize(CK_VOID_PTR args)
{
	p11shim.initialize_calls++;
	return real->C_Initialize(args);
}

static CK_RV shim_finalize(CK_VOID_PTR reserved)
{
	p11shim.finalize_calls++;
	return real->C_Finalize(reserved);
}

static CK_RV shim_get_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	CK_RV rv = real->C_GetTokenInfo(slot, info);

	if (rv == CKR_OK)
		info->flags |= p11shim.token_flags_add;
	return rv;
}

static CK_RV shim_login(CK_SESSION_HANDLE s, CK_USER_TYPE who, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	p11shim.login_calls++;
	p11shim.last_login_user = who;
	if (pin == NULL) {
		p11shim.login_null_pin_calls++;
		if (p11shim.pinpad_pin[0] != '\0')
			return real->C_Login(s, who, (CK_UTF8CHAR_PTR)p11shim.pinpad_pin,
					     strlen(p11shim.pinpad_pin));
	}
	return real->C_Login(s, who, pin, len);
}

static CK_RV shim_get_function_list(CK_FUNCTION_LIST_PTR_PTR out);

static CK_RV shim_get_function_list(CK_FUNCTION_LIST_PTR_PTR out)
{
	CK_C_GetFunctionList get;
	const char *path;
	CK_RV rv;

	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	if (real == NULL) {
		path = getenv("P11SHIM_MODULE");
		if (path == NULL || path[0] == '\0')
			path = getenv("EID_TEST_P11_MODULE");
		if (path == NULL || (real_dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL)
			return CKR_GENERAL_ERROR;
		*(void **)(&get) = dlsym(real_dl, "C_GetFunctionList");
		if (get == NULL || (rv = get(&real)) != CKR_OK || real == NULL) {
			real = NULL;
			return CKR_GENERAL_ERROR;
		}
		shim = *real;
		shim.C_Initialize = shim_initialize;
		shim.C_Finalize = shim_finalize;
		shim.C_GetTokenInfo = shim_get_token_info;
		shim.C_Login = shim_login;
		shim.C_GetFunctionList = shim_get_function_list;
	}
	*out = &shim;
	return CKR_OK;
}

SHIM_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
	return shim_get_function_list(out);
}
