/*
 * CommonCryptoError.h: the part of Apple's header that OpenSSL's seeding code uses
 * (include/crypto/rand.h), for cross builds with zig cc, whose macOS headers have no CommonCrypto.
 * Same types and value as Apple's (CommonCrypto is part of libSystem).
 */
#ifndef CONNECT_SHIM_COMMONCRYPTOERROR_H
#define CONNECT_SHIM_COMMONCRYPTOERROR_H
#include <stdint.h>

typedef int32_t	CCStatus;
typedef int32_t	CCCryptorStatus;
enum {
	kCCSuccess = 0
};
#endif
