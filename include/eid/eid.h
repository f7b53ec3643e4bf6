/**
 * @file eid/eid.h
 * @brief libeid: signing and signature validation for eID cards, tokens and files.
 *
 * Include this header for the whole public API.  Conventions (names, errors,
 * ownership, threads) are in spec/api.md.
 */
#ifndef EID_EID_H
#define EID_EID_H

#include "common.h"
#include "token.h"
#include "pki.h"
#include "online.h"
#include "cades.h"
#include "pades.h"
#include "xades.h"
#include "asic.h"
#include "card.h"
#include "verify.h"
#include "extend.h"

#endif
