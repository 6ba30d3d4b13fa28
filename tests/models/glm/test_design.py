"""Design matrices (likelihax.models._design) against formulaic/patsy-free hand builds."""

import numpy as np
import pandas as pd
import pytest

from likelihax.models._design import check_rank, design, from_arrays, model_matrix


@pytest.fixture(scope="module")
def df():
    return pd.DataFrame(
        {
            "y": [1.0, 2.0, 3.0, np.nan, 5.0, 6.0, 7.0, 8.0],
            "x": [1.0, 2.0, np.nan, 4.0, 5.0, 7.0, 8.0, 9.0],
            "g": ["a", "b", "a", "b", None, "a", "b", "c"],
            "w": [1.0, 2.0, 1.0, 1.0, 1.0, np.nan, 1.0, 3.0],
        },
        index=[10, 11, 12, 13, 14, 15, 16, 17],
    )


def test_formula_columns_interaction_and_transforms():
    d = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                      "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                      "g": ["a", "b", "a", "b", "a", "b"]})  # fmt: skip
    des = design("np.log(y) ~ center(x) * g", d)
    assert des.columns == ["Intercept", "center(x)", "g[T.b]", "center(x):g[T.b]"]
    xc = d["x"].to_numpy() - 3.5
    gb = (d["g"] == "b").to_numpy(float)
    expect = np.column_stack([np.ones(6), xc, gb, xc * gb])
    np.testing.assert_allclose(des.X, expect)
    np.testing.assert_allclose(des.y, np.log(d["y"]))
    assert des.X.dtype == np.float64 and des.response == "np.log(y)"
    # new data reuse the centring of the fitted data and the levels
    new = model_matrix(des, pd.DataFrame({"x": [10.0], "g": ["b"]}))
    np.testing.assert_allclose(new, [[1.0, 6.5, 1.0, 6.5]])


def test_missing_raise_names_columns(df):
    with pytest.raises(ValueError, match=r"4 of 8 rows have missing values") as e:
        design("y ~ x + g", df, extra={"weights": "w"})
    msg = str(e.value)
    for part in ["column 'x': 1", "column 'y': 1", "column 'g': 1",
                 "column 'w' (weights): 1", "first rows [2, 3, 4, 5]",
                 "missing='drop'"]:  # fmt: skip
        assert part in msg


def test_missing_drop_counts_and_keeps_caller_data(df):
    before = df.copy()
    d = design("y ~ x + g", df, missing="drop", extra={"weights": "w"})
    assert d.n_dropped == 4
    assert d.rows.tolist() == [0, 1, 6, 7]  # positions, not index labels
    np.testing.assert_allclose(d.y, [1.0, 2.0, 7.0, 8.0])
    np.testing.assert_allclose(d.extra["weights"], [1.0, 2.0, 1.0, 3.0])
    assert d.columns == ["Intercept", "x", "g[T.b]", "g[T.c]"]
    pd.testing.assert_frame_equal(df, before)


def test_extra_array_and_dict_data():
    data = {"y": np.array([0.0, 1.0, 1.0]), "x": np.array([1.0, 2.0, 3.0])}
    d = design("y ~ x", data, extra={"offset": np.array([0.1, np.nan, 0.3])},
               missing="drop")  # fmt: skip
    assert d.rows.tolist() == [0, 2]
    np.testing.assert_allclose(d.extra["offset"], [0.1, 0.3])
    with pytest.raises(ValueError, match=r"offset \(offset\): 1"):
        design("y ~ x", data, extra={"offset": np.array([0.1, np.nan, 0.3])})
    with pytest.raises(KeyError, match="'wt' is not a column of data"):
        design("y ~ x", data, extra={"weights": "wt"})
    with pytest.raises(ValueError, match="one value per row of data"):
        design("y ~ x", data, extra={"weights": np.ones(2)})


def test_categorical_response_kept_as_given():
    yc = pd.Categorical(["lo", "hi", "mid", "lo"], categories=["lo", "mid", "hi"],
                        ordered=True)  # fmt: skip
    d = design("y ~ x", pd.DataFrame({"y": yc, "x": [1.0, 2.0, 3.0, 4.0]}))
    assert list(d.y.categories) == ["lo", "mid", "hi"] and d.y.ordered
    d = design("y ~ x", pd.DataFrame({"y": ["u", "v", "u"], "x": [1.0, 2.0, 3.0]}))
    assert list(d.y) == ["u", "v", "u"]


def test_formula_errors():
    d = pd.DataFrame({"y": [1.0, 2.0], "x": [0.0, 1.0]})
    with pytest.raises(ValueError, match="The formula needs a response"):
        design("x", d)
    with pytest.raises(ValueError, match="missing must be 'raise' or 'drop'"):
        design("y ~ x", d, missing="omit")
    with pytest.raises(TypeError, match="DataFrame or a dict"):
        design("y ~ x", [1, 2])
    with pytest.raises(ValueError, match=r"non-finite values in column\(s\) \['np.log\(x\)'\]"):
        with np.errstate(divide="ignore"):
            design("y ~ np.log(x)", d)


def test_from_arrays():
    X = np.array([[1.0, 0.5], [1.0, 1.5], [1.0, 2.0]])
    d = from_arrays(np.array([0, 1, 1]), X)
    assert d.columns == ["x0", "x1"] and d.spec is None and d.n_dropped == 0
    with pytest.raises(ValueError, match="read-only"):
        d.X[0, 0] = 99.0  # a read-only view: likelihax cannot write to X
    assert X.flags.writeable and X[0, 0] == 1.0
    d = from_arrays([0, 1, 1], pd.DataFrame(X, columns=["one", "z"]))
    assert d.columns == ["one", "z"]
    np.testing.assert_allclose(model_matrix(d, [[1.0, 3.0]]), [[1.0, 3.0]])
    with pytest.raises(ValueError, match="y has 2 values but X has 3 rows"):
        from_arrays([0, 1], X)
    with pytest.raises(ValueError, match=r"non-finite values in column\(s\) \['x1'\] at rows \[1\]"):
        from_arrays([0, 1, 1], np.array([[1.0, 0.5], [1.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match=r"y has 1 non-finite value\(s\) \(NaN/inf\) at rows \[2\]"):
        from_arrays([0, 1, np.nan], X)
    with pytest.raises(ValueError, match="3 column names for 2 columns"):
        from_arrays([0, 1, 1], X, columns=["a", "b", "c"])
    with pytest.raises(ValueError, match="newdata must have 2 columns"):
        model_matrix(d, np.ones((2, 3)))


def test_check_rank_names_aliased_columns():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=20), rng.normal(size=20)
    X = np.column_stack([np.ones(20), a, b, 2 * a - 3 * b, np.zeros(20)])
    with pytest.raises(ValueError) as e:
        check_rank(X, ["Intercept", "a", "b", "c", "z"])
    msg = str(e.value)
    assert "rank 3 of 5 columns" in msg
    assert "'c' = 2*'a' - 3*'b'" in msg and "'z' is all zeros" in msg
    check_rank(X[:, :3], ["Intercept", "a", "b"])  # full rank: no error
    # dummy trap: all levels plus an intercept
    g = np.repeat([0, 1, 2], 4)
    D = np.column_stack([np.ones(12), *(g == k for k in range(3))]).astype(float)
    with pytest.raises(ValueError, match=r"'g\[c\]' = 1\*'Intercept' - 1\*'g\[a\]' - 1\*'g\[b\]'"):
        check_rank(D, ["Intercept", "g[a]", "g[b]", "g[c]"])
