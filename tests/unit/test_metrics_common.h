/*
 * test_metrics_common.h - assertions on doubles for the KPI engine tests (cmocka 1.1's
 * assert_float_equal works in single precision, too coarse for energy sums).
 * Include after <cmocka.h>.
 */
#ifndef TEST_METRICS_COMMON_H
#define TEST_METRICS_COMMON_H

#include <math.h>

/* |a - b| <= tol */
#define assert_double_equal(a, b, tol)                                                        \
    do {                                                                                      \
        double a_ = (a), b_ = (b), t_ = (tol);                                                \
        if (!(fabs(a_ - b_) <= t_))                                                           \
            fail_msg("%s = %.17g, expected %.17g (+-%g)", #a, a_, b_, t_);                    \
    } while (0)

/* |a - b| <= rel * max(|a|, |b|), or both zero */
#define assert_double_rel(a, b, rel)                                                          \
    do {                                                                                      \
        double a_ = (a), b_ = (b), r_ = (rel);                                                \
        double m_ = fmax(fabs(a_), fabs(b_));                                                 \
        if (!(fabs(a_ - b_) <= r_ * m_))                                                      \
            fail_msg("%s = %.17g, expected %.17g (rel %g)", #a, a_, b_, r_);                  \
    } while (0)

#endif /* TEST_METRICS_COMMON_H */
