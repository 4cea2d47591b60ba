/* Python's float repr, so the dict lines look exactly like Hugging Face's. */
#include "workloads/train/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

char *train_pyfloat(char *buf, size_t len, double v)
{
	if (isnan(v)) {
		snprintf(buf, len, "nan");
		return buf;
	}
	if (isinf(v)) {
		snprintf(buf, len, v < 0 ? "-inf" : "inf");
		return buf;
	}
	if (v == 0) {
		snprintf(buf, len, signbit(v) ? "-0.0" : "0.0");
		return buf;
	}
	char e[64];
	for (int prec = 0; prec < 17; prec++) { /* shortest round-trip digits */
		snprintf(e, sizeof(e), "%.*e", prec, v);
		if (strtod(e, NULL) == v)
			break;
	}
	/* e = [-]d[.ddd]e[+-]XX */
	const char *s = e;
	bool neg = *s == '-';
	if (neg)
		s++;
	char digits[32];
	int nd = 0;
	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9' && nd < 31)
			digits[nd++] = *s;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = 0;
	int exp10 = atoi(s + 1);
	char out[64];
	size_t o = 0;
	if (neg)
		out[o++] = '-';
	if (exp10 >= -4 && exp10 < 16) {
		if (exp10 < 0) {
			out[o++] = '0';
			out[o++] = '.';
			for (int i = 0; i < -exp10 - 1; i++)
				out[o++] = '0';
			for (int i = 0; i < nd; i++)
				out[o++] = digits[i];
		} else {
			for (int i = 0; i <= exp10; i++)
				out[o++] = i < nd ? digits[i] : '0';
			out[o++] = '.';
			if (nd > exp10 + 1)
				for (int i = exp10 + 1; i < nd; i++)
					out[o++] = digits[i];
			else
				out[o++] = '0';
		}
		out[o] = 0;
	} else {
		out[o++] = digits[0];
		if (nd > 1) {
			out[o++] = '.';
			for (int i = 1; i < nd; i++)
				out[o++] = digits[i];
		}
		snprintf(out + o, sizeof(out) - o, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
	}
	snprintf(buf, len, "%s", out);
	return buf;
}

double train_round(double v, int digits)
{
	if (!isfinite(v))
		return v;
	char b[512];
	snprintf(b, sizeof(b), "%.*f", digits, v);
	return strtod(b, NULL);
}
