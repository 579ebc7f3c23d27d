# Shell helpers of the bench scripts (sourced).

# ns_to_s NANOSECONDS: seconds with three decimals (91000000 -> 0.091).
ns_to_s() {
	awk -v n="$1" 'BEGIN { printf "%.3f\n", n / 1e9 }'
}
