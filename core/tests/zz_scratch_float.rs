//! scratch
#![allow(missing_docs)]
use proptest::prelude::*;
proptest! {
    #![proptest_config(ProptestConfig::with_cases(200000))]
    #[test]
    fn f(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
        let s = serde_json::to_string(&x).unwrap();
        let y: f64 = serde_json::from_str(&s).unwrap();
        prop_assert_eq!(x.to_bits(), y.to_bits(), "{}", s);
    }
}
