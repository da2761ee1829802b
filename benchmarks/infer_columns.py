"""Real target columns, each labelled with its problem type from its documentation.

The benchmark of ``recipes.infer_problem`` (``benchmarks/infer.py``,
``tests/test_infer_benchmark.py``). Every column ships offline with a package
the project already installs:

* ``sklearn``: scikit-learn's bundled sets (``load_*``, never ``fetch_*``);
  the documentation is each set's ``DESCR``.
* ``statsmodels``: ``statsmodels.datasets`` (bundled; ``get_rdataset``
  downloads and is not used); the documentation is each set's ``NOTE``.
* ``statsmodels-files``: real data sets that statsmodels ships as CSV files
  for its own tests (``statsmodels/<path>``). The package does not document
  them; the note paraphrases the documentation of the original data set
  (named in ``source``).

``truth`` is what the documentation says the column *is*, decided before
running the inference and never changed to suit it. Derived columns (marked
``derived`` in the note) are built from real columns where no real column of
the type ships: multi-label targets (no bundled multi-label set exists) and
one proportion computed from two documented counts.

Each entry: package, data set, column, true problem type, and the
documentation's words (quoted from ``DESCR``/``NOTE`` for the bundled sets).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np


@dataclass(frozen=True)
class Column:
    package: str
    dataset: str
    column: str
    truth: str
    note: str
    source: str = ""

    @property
    def name(self):
        return f"{self.package}:{self.dataset}:{self.column}"


S, SM, SMF = "sklearn", "statsmodels", "statsmodels-files"

COLUMNS = (
    # --- binary ------------------------------------------------------------------------
    Column(S, "breast_cancer", "target", "binary", "class: WDBC-Malignant, WDBC-Benign"),
    Column(S, "diabetes_raw", "sex", "binary", "sex (2 values)"),
    Column(SM, "spector", "GRADE", "binary",
           "binary variable indicating whether or not a student's grade improved"),
    Column(SM, "spector", "PSI", "binary", "participation in program"),
    Column(SM, "anes96", "vote", "binary", "Expected vote: 0 - Clinton, 1 - Dole"),
    Column(SM, "cpunish", "SOUTH", "binary", "SOUTH == 1 indicates a state in the South"),
    Column(SM, "committee", "PRESTIGE", "binary", "PRESTIGE == 1 is a high prestige committee"),
    Column(SM, "ccard", "OWNRENT", "binary", "owns or rents (0/1; see source)"),
    Column(SM, "heart", "censors", "binary", "indicates if an observation is censored"),
    Column(SM, "randhie", "idp", "binary", "1 if individual deductible plan, 0 otherwise"),
    Column(SM, "modechoice", "choice", "binary", "choice = 0 - no, 1 - yes"),
    Column(SMF, "cattaneo2", "mbsmoke", "binary", "1 if mother smoked (smoker/nonsmoker)",
           "Cattaneo (2010), Stata cattaneo2.dta"),
    Column(SMF, "lbw", "low", "binary", "birth weight less than 2.5 kg",
           "Hosmer & Lemeshow, low birth weight data"),
    Column(SMF, "autos", "fuel", "binary", "fuel-type: diesel, gas",
           "UCI Automobile data set"),
    # --- multiclass --------------------------------------------------------------------
    Column(S, "iris", "target", "multiclass",
           "class: Iris-Setosa, Iris-Versicolour, Iris-Virginica"),
    Column(S, "wine", "target", "multiclass", "class: class_0, class_1, class_2"),
    Column(S, "digits", "target", "multiclass", "10 classes, where each class refers to a digit"),
    Column(S, "iris_onehot", "target", "multiclass",
           "derived: the iris classes as one-hot rows"),
    Column(SM, "fair", "occupation", "multiclass",
           "1 = student, 2 = farming, agriculture; semi-skilled, or unskilled worker; "
           "3 = white-collar; 4 = teacher counselor social worker, nurse; ...; "
           "5 = managerial, administrative, business, 6 = professional with advanced degree"),
    Column(SM, "fair", "occupation_husb", "multiclass", "Husband's occupation. Same as occupation."),
    Column(SM, "modechoice_chosen", "mode", "multiclass",
           "mode = 1 - air, 2 - train, 3 - bus, 4 - car (the mode with choice = 1 - yes)"),
    Column(SM, "grunfeld", "firm", "multiclass", "firm: the 11 firms (names)"),
    Column(SMF, "lbw", "race", "multiclass", "race of mother: white, black, other",
           "Hosmer & Lemeshow, low birth weight data"),
    Column(SMF, "mvreg", "prog", "multiclass", "type of program: general, academic, vocational",
           "UCLA hsb2 data"),
    Column(SMF, "autos", "style", "multiclass",
           "body-style: hardtop, wagon, sedan, hatchback, convertible", "UCI Automobile data set"),
    Column(SMF, "autos", "drive", "multiclass", "drive-wheels: 4wd, fwd, rwd",
           "UCI Automobile data set"),
    Column(SMF, "autos", "make", "multiclass", "make: alfa-romero, audi, bmw, ...",
           "UCI Automobile data set"),
    Column(SMF, "autos", "eng_type", "multiclass",
           "engine-type: dohc, dohcv, l, ohc, ohcf, ohcv, rotor", "UCI Automobile data set"),
    Column(SMF, "bmt", "Group", "multiclass",
           "disease group: ALL, AML low risk, AML high risk", "Klein & Moeschberger, bmt data"),
    # --- multilabel (derived: no bundled multi-label set exists) ----------------------
    Column(S, "digits_attributes", "even,greater_than_4,prime", "multilabel",
           "derived: three attributes of the digit (even, greater than 4, prime)"),
    Column(SM, "randhie_health", "hlthg,hlthf,hlthp,physlm_any", "multilabel",
           "derived: 1 if self-rated health is good / fair / poor, and any physical limitation"),
    # --- regression --------------------------------------------------------------------
    Column(S, "diabetes", "target", "regression",
           "a quantitative measure of disease progression one year after baseline"),
    Column(S, "diabetes_raw", "age", "regression", "age in years"),
    Column(S, "diabetes_raw", "bmi", "regression", "body mass index"),
    Column(S, "diabetes_raw", "s4", "regression", "tch, total cholesterol / HDL"),
    Column(S, "linnerud", "Weight", "regression",
           "physiological (target) variables: Weight, Waist and Pulse (20 middle-aged men)"),
    Column(S, "linnerud", "Waist", "regression", "physiological (target) variable: Waist"),
    Column(S, "linnerud", "Pulse", "regression", "physiological (target) variable: Pulse"),
    Column(S, "wine", "magnesium", "regression", "Magnesium"),
    Column(S, "wine", "proline", "regression", "Proline"),
    Column(S, "iris", "petal width (cm)", "regression", "petal width in cm"),
    Column(SM, "stackloss", "STACKLOSS", "regression",
           "10 times the percentage of ammonia going into the plant that escapes from the "
           "absorption column (21 observations)"),
    Column(SM, "longley", "TOTEMP", "regression", "Total Employment (16 observations)"),
    Column(SM, "longley", "GNP", "regression", "GNP (16 observations)"),
    Column(SM, "engel", "foodexp", "regression",
           "annual household food expenditure (Belgian francs)"),
    Column(SM, "copper", "WORLDCONSUMPTION", "regression",
           "World consumption of copper (in 1000 metric tons)"),
    Column(SM, "nile", "volume", "regression", "the discharge at Aswan in 10^8, m^3"),
    Column(SM, "statecrime", "violent", "regression", "Rate of violent crimes / 100,000 population"),
    Column(SM, "ccard", "AVGEXP", "regression", "average monthly credit card expenditure"),
    Column(SM, "macrodata", "infl", "regression", "inflation rate"),
    Column(SM, "scotland", "COUTAX", "regression",
           "Amount of council tax collected in pounds sterling as of April '97"),
    Column(SM, "scotland", "MOR", "regression", "The standardized mortality rate (UK is 100)"),
    Column(SM, "anes96", "age", "regression", "Age of respondent."),
    Column(SM, "modechoice", "hinc", "regression", "household income ($1000s)"),
    Column(SM, "heart", "survival", "regression", "Days after surgery until death"),
    Column(SMF, "cattaneo2", "bweight", "regression", "infant birthweight (grams)",
           "Cattaneo (2010), Stata cattaneo2.dta"),
    Column(SMF, "autos", "price", "regression", "price: continuous from 5118 to 45400",
           "UCI Automobile data set"),
    Column(SMF, "epil", "age", "regression", "the subject's age, in years",
           "R package MASS, epil"),
    Column(SMF, "dietox", "Weight", "regression", "weight of the pig (kg)",
           "R package geepack, dietox"),
    # --- bounded regression (0..1) ----------------------------------------------------
    Column(SM, "cpunish", "DEGREE", "bounded_regression",
           "An estimate of the proportion of the state population with a college degree"),
    Column(SM, "star98_share", "NABOVE/(NABOVE+NBELOW)", "bounded_regression",
           "derived: the share of students above the national median (NABOVE: Total number "
           "of students above the national median; NBELOW: ... below)"),
    Column(SM, "interest_inflation", "R", "bounded_regression",
           "nominal long term interest rate"),
    Column(SM, "danish_data", "ibo", "bounded_regression", "Bond rate"),
    Column(SM, "danish_data", "ide", "bounded_regression", "Deposit rate"),
    # --- count -------------------------------------------------------------------------
    Column(S, "linnerud", "Chins", "count", "exercise variables: Chins, Situps and Jumps"),
    Column(S, "linnerud", "Situps", "count", "exercise variable: Situps"),
    Column(S, "linnerud", "Jumps", "count", "exercise variable: Jumps"),
    Column(SM, "randhie", "mdvis", "count", "Number of outpatient visits to an MD"),
    Column(SM, "anes96", "TVnews", "count",
           "Number of times per week that respondent watches TV news."),
    Column(SM, "cancer", "cancer", "count", "The number of breast cancer observances"),
    Column(SM, "committee", "BILLS104", "count",
           "Number of bill assignments in the first 100 days of the 104th House"),
    Column(SM, "committee", "BILLS103", "count",
           "Number of bill assignments in the first 100 days of the 103rd House"),
    Column(SM, "committee", "SUBS", "count", "Number of subcommittees."),
    Column(SM, "committee", "STAFF", "count", "Number of staff members assigned to the committee."),
    Column(SM, "committee", "SIZE", "count", "Number of members on the committee."),
    Column(SM, "cpunish", "EXECUTIONS", "count", "Executions in 1996"),
    Column(SM, "modechoice", "psize", "count", "traveling group size in mode chosen (number)."),
    Column(SM, "star98", "NABOVE", "count",
           "Total number of students above the national median for the math section."),
    Column(SMF, "racd10", "docvis", "count", "number of doctor visits",
           "Cameron & Trivedi, Microeconometrics Using Stata, racd10"),
    Column(SMF, "racd10", "totchr", "count", "number of chronic conditions",
           "Cameron & Trivedi, Microeconometrics Using Stata, racd10"),
    Column(SMF, "epil", "y", "count", "the count for the 2-week period",
           "R package MASS, epil"),
    Column(SMF, "epil", "base", "count", "the counts in the baseline 8-week period",
           "R package MASS, epil"),
    Column(SMF, "medpar", "los", "count", "length of hospital stay (days)",
           "Hilbe, Negative Binomial Regression, medpar"),
    Column(SMF, "lbw", "ftv", "count", "number of physician visits during the first trimester",
           "Hosmer & Lemeshow, low birth weight data"),
    Column(SMF, "lbw", "ptl", "count", "number of previous premature labours",
           "Hosmer & Lemeshow, low birth weight data"),
    Column(SMF, "cattaneo2", "nprenatal", "count", "number of prenatal care visits",
           "Cattaneo (2010), Stata cattaneo2.dta"),
    # --- ordinal -----------------------------------------------------------------------
    Column(SM, "fair", "rate_marriage", "ordinal",
           "How rate marriage, 1 = very poor, 2 = poor, 3 = fair, 4 = good, 5 = very good"),
    Column(SM, "fair", "religious", "ordinal",
           "How religious, 1 = not, 2 = mildly, 3 = fairly, 4 = strongly"),
    Column(SM, "fair", "educ", "ordinal",
           "Level of education, 9 = grade school, 12 = high school, 14 = some college, "
           "16 = college graduate, 17 = some graduate school, 20 = advanced degree"),
    Column(SM, "anes96", "PID", "ordinal",
           "Party identification of respondent. 0 - Strong Democrat ... 6 - Strong Republican"),
    Column(SM, "anes96", "educ", "ordinal",
           "Education level of respondent 1 - 1-8 grades ... 7 - PhD"),
    Column(SM, "anes96", "selfLR", "ordinal",
           "political leanings from Left to Right: 1 - Extremely liberal ... "
           "7 - Extremely Conservative"),
    Column(SM, "anes96", "ClinLR", "ordinal",
           "Respondents impression of Bill Clinton's political leanings (1-7)"),
    Column(SM, "anes96", "DoleLR", "ordinal",
           "Respondents impression of Bob Dole's political leanings (1-7)"),
    Column(SM, "anes96", "income", "ordinal",
           "Income of household 1 - None or less than $2,999 ... 24 - $105,000 and over"),
    Column(SMF, "ologit_ucla", "apply", "ordinal",
           "likelihood of applying to graduate school: unlikely, somewhat likely, very likely",
           "UCLA IDRE ordinal logistic regression example"),
    Column(SMF, "framing", "anx", "ordinal",
           "respondent's anxiety (ordered factor, 'not anxious at all' to 'very anxious')",
           "R package mediation, framing"),
    Column(SMF, "framing", "educ", "ordinal",
           "education (ordered factor, 'less than high school' to "
           "'bachelor's degree or higher')", "R package mediation, framing"),
    Column(SMF, "framing", "english", "ordinal",
           "support for English as the official language (ordered factor, 'Strongly Oppose' "
           "to 'Strongly Favor')", "R package mediation, framing"),
    Column(SMF, "cattaneo2", "msmoke", "ordinal",
           "cigarettes smoked a day during pregnancy: 0 daily, 1-5 daily, 6-10 daily, 11+ daily",
           "Cattaneo (2010), Stata cattaneo2.dta"),
    Column(SMF, "cattaneo2", "prenatal", "ordinal",
           "trimester of the first prenatal care visit (0 = none, 1, 2, 3)",
           "Cattaneo (2010), Stata cattaneo2.dta"),
    Column(SMF, "autos", "symbol", "ordinal",
           "symboling: -3, -2, -1, 0, 1, 2, 3 (insurance risk rating; +3 risky, -3 safe)",
           "UCI Automobile data set"),
)

# A check of generalization, kept out of the score and out of the tests: 31 more columns of
# the same packages, labelled from the documentation (the statsmodels NOTEs; for the test files,
# the original data sets' documentation) and written down before any inference ran on them.
# They were never used to choose a rule: ``python benchmarks/infer.py --check`` prints how the
# rules do on columns they were not tuned on (the second pass of rules, with the held-out
# columns below, did study their misses). Labels stay as written where the documentation
# still holds (cattaneo2 fage and monthslb code "none" or missing as 0: still an age and a
# duration). Three were re-examined against their values in the second pass: randhie disea is
# relabelled, cattaneo2 deadkids relabelled and fair children dropped (each says why); with the
# first labels the check scores are also in the README.
CHECK_COLUMNS = (
    Column(SM, "randhie", "disea", "regression",
           "number of chronic diseases; relabelled from count: the values are not whole "
           "numbers (3.4, 6.9, 9.967, 13.73, ... up to 58.6 in 31 distinct values), a weighted "
           "index of chronic disease, so no count loss reads them as counts"),
    Column(SM, "star98", "NBELOW", "count",
           "Total number of students below the national median for the math section."),
    # fair children ("No. children", labelled count) is dropped: it codes "5 or more" as 5.5, so
    # its values are not counts as stored (a count loss needs 5.5 recoded to a number of
    # children; read as brackets 0, 1, 2, 3, 4, 5+ it is ordinal): unfit under either label.
    Column(SM, "fair", "age", "regression", "Age"),
    Column(SM, "fair", "yrs_married", "regression",
           "No. years married. Interval approximations."),
    Column(SM, "fair", "affairs", "regression", "measure of time spent in extramarital affairs"),
    Column(SM, "heart", "age", "regression", "age at the time of surgery"),
    Column(SM, "strikes", "duration", "regression",
           "duration of the strike in days (a duration, as heart survival days)"),
    Column(SM, "spector", "TUCE", "regression", "Test score on economics test"),
    Column(SM, "spector", "GPA", "regression", "Student's grade point average"),
    Column(SM, "cpunish", "INCOME", "regression", "Median per capita income in 1996 dollars"),
    Column(SM, "cpunish", "VC100k96", "regression",
           "Rate of violent crimes per 100,000 residents for 1996"),
    Column(SM, "star98", "PTRATIO", "regression", "Pupil-teacher ratio."),
    Column(SM, "star98", "AVYRSEXP", "regression",
           "Sum of teachers' years in educational service divided by the number of teachers."),
    Column(SM, "statecrime", "murder", "regression", "Rate of murders / 100,000 population."),
    Column(SM, "randhie", "lpi", "regression",
           "ln(max(1, annual participation incentive payment))"),
    Column(SM, "randhie", "lncoins", "regression", "ln(coinsurance + 1), 0 <= coninsurance <= 100"),
    Column(SMF, "cattaneo2", "deadkids", "binary",
           "previous births where newborn died; relabelled from count: the column takes only "
           "the values 0 and 1, a binary target for any model",
           "Cattaneo (2010), Stata cattaneo2.dta"),
    Column(SMF, "cattaneo2", "order", "count",
           "order of birth of the infant (1 + previous births; could also be read as a rank)",
           "Cattaneo (2010), Stata cattaneo2.dta"),
    Column(SMF, "cattaneo2", "mage", "regression", "mother's age",
           "Cattaneo (2010), Stata cattaneo2.dta"),
    Column(SMF, "cattaneo2", "fage", "regression", "father's age",
           "Cattaneo (2010), Stata cattaneo2.dta"),
    Column(SMF, "cattaneo2", "monthslb", "regression", "months since last birth",
           "Cattaneo (2010), Stata cattaneo2.dta"),
    Column(SMF, "framing", "income", "ordinal", "income level, brackets 1-19",
           "R package mediation, framing"),
    Column(SMF, "framing", "immigr", "ordinal",
           "a four-point scale of attitudes toward increased immigration",
           "R package mediation, framing"),
    Column(SMF, "framing", "cond", "multiclass", "experimental condition (4 conditions)",
           "R package mediation, framing"),
    Column(SMF, "framing", "emo", "regression",
           "measure of negative feeling, a numeric scale from 3 to 12",
           "R package mediation, framing"),
    Column(SMF, "autos", "cylinders", "count",
           "num-of-cylinders: eight, five, four, six, three, twelve, two",
           "UCI Automobile data set"),
    Column(SMF, "autos", "fuel.sys", "multiclass",
           "fuel-system: 1bbl, 2bbl, 4bbl, idi, mfi, mpfi, spdi, spfi", "UCI Automobile data set"),
    Column(SMF, "autos", "hp", "regression", "horsepower: continuous from 48 to 288",
           "UCI Automobile data set"),
    Column(SMF, "autos", "loss", "regression", "normalized-losses: continuous from 65 to 256",
           "UCI Automobile data set"),
    Column(SMF, "lbw", "lwt", "regression", "weight at the last menstrual period (pounds)",
           "Hosmer & Lemeshow, low birth weight data"),
    Column(SMF, "lbw", "age", "regression", "age of the mother (years)",
           "Hosmer & Lemeshow, low birth weight data"),
)

# A held-out measure of generalization (issue 15), kept out of the score, out of the tests'
# floors and out of every rule decision: 36 more columns, labelled from the documentation named
# in each entry and written down (this block committed) before any inference ran on them. Then
# ``python benchmarks/infer.py --holdout`` ran once before the rule changes of the second pass
# and once after; its misses were never used to choose or tune a rule.
#
# How they were chosen: data sets not yet used (the statsmodels test files ships,
# foodexpenditure, stata_cancer, pastes, motorcycle, binary_constrict) and unused columns of data
# sets already used, every column whose documentation says plainly what it is. Left out:
# identifiers, time indexes, dummies and transforms of other columns, columns whose documented
# meaning fits two types equally (ships service, an exposure in months; racd10 educyr, years of
# schooling; framing p_harm, a 2-8 score; statsmodels sunspots, documented as a "number" but an
# annual mean index; counts of people in the hundreds of thousands, cancer population), and
# binary indicators beyond seven (two-valued columns are found by construction and would only pad
# the score). Float-valued measurements are likewise found by construction, so the regressions
# are mostly integer-valued ones, the columns where the rules decide. Units were read where the
# documentation is silent about them (scotland YES and statecrime single are stored in percent,
# so they are regressions, not proportions within [0, 1]).
HOLDOUT_COLUMNS = (
    # --- binary
    Column(SMF, "ships", "yr_op", "binary", "year of operation: 1 = 1960-74, 2 = 1975-79",
           "McCullagh & Nelder (1989) ship damage data, Stata ships.dta"),
    Column(SMF, "binary_constrict", "diagnosis", "binary",
           "vasoconstriction of the skin of the fingers: constrict / no constrict",
           "Finney (1947), vaso-constriction data (R robustbase vaso)"),
    Column(SMF, "lbw", "smoke", "binary", "smoking status during pregnancy (1 = yes, 0 = no)",
           "Hosmer & Lemeshow, low birth weight data"),
    Column(SMF, "epil", "trt", "binary", "treatment: placebo or progabide",
           "R package MASS, epil"),
    Column(SMF, "framing", "gender", "binary", "respondent's gender: male or female",
           "R package mediation, framing"),
    Column(SMF, "medpar", "admitype", "binary",
           "type of admission, emergency (type 3) or elective/urgent (types 1 and 2)",
           "Hilbe, Negative Binomial Regression, medpar (type: 1 elective, 2 urgent, 3 emergency)"),
    Column(SMF, "autos", "doors", "binary", "num-of-doors: four, two",
           "UCI Automobile data set"),
    # --- multiclass
    Column(SMF, "ships", "ship", "multiclass", "ship type A to E, coded 1 to 5",
           "McCullagh & Nelder (1989) ship damage data, Stata ships.dta"),
    Column(SMF, "stata_cancer", "drug", "multiclass",
           "drug type: 1 = placebo, 2 and 3 = two active drugs",
           "Stata cancer.dta, patient survival in drug trial"),
    Column(SMF, "pastes", "batch", "multiclass", "the batch the paste came from, A to J",
           "R package lme4, Pastes (Davies & Goldsmith 1972)"),
    Column(SMF, "pastes", "cask", "multiclass", "the cask within the batch, a, b or c",
           "R package lme4, Pastes (Davies & Goldsmith 1972)"),
    # --- ordinal
    Column(SMF, "ships", "yr_con", "ordinal",
           "year of construction: 1 = 1960-64, 2 = 1965-69, 3 = 1970-74, 4 = 1975-79",
           "McCullagh & Nelder (1989) ship damage data, Stata ships.dta"),
    # --- count
    Column(SMF, "ships", "accident", "count", "number of damage incidents",
           "McCullagh & Nelder (1989) ship damage data, Stata ships.dta"),
    Column(SMF, "foodexpenditure", "persons", "count", "number of persons in the household",
           "R package betareg, FoodExpenditure (Griffiths, Hill & Judge 1993)"),
    Column(S, "digits", "pixel_4_4", "count",
           "the number of on pixels counted in a 4x4 block of the 32x32 bitmap, 0..16"),
    Column(S, "digits", "pixel_6_2", "count",
           "the number of on pixels counted in a 4x4 block of the 32x32 bitmap, 0..16"),
    # --- bounded regression
    Column(SMF, "foodexpenditure_share", "food/income", "bounded_regression",
           "derived: the share of household income spent on food (the response of the "
           "betareg example, food / income)",
           "R package betareg, FoodExpenditure (Griffiths, Hill & Judge 1993)"),
    # --- regression
    Column(SMF, "autos", "weight", "regression", "curb-weight: continuous from 1488 to 4066",
           "UCI Automobile data set"),
    Column(SMF, "autos", "eng_cc", "regression", "engine-size: continuous from 61 to 326",
           "UCI Automobile data set"),
    Column(SMF, "autos", "rpm", "regression", "peak-rpm: continuous from 4150 to 6600",
           "UCI Automobile data set"),
    Column(SMF, "autos", "city_mpg", "regression", "city-mpg: continuous from 13 to 49",
           "UCI Automobile data set"),
    Column(SMF, "mvreg", "read", "regression", "standardized reading test score",
           "UCLA hsb2 data"),
    Column(SMF, "mvreg", "write", "regression", "standardized writing test score",
           "UCLA hsb2 data"),
    Column(SM, "modechoice", "ttme", "regression",
           "terminal waiting time for plane, train and bus (minutes); 0 for car"),
    Column(SM, "modechoice", "invt", "regression",
           "travel time (in-vehicle time) for all stages (minutes)"),
    Column(SMF, "stata_cancer", "studytime", "regression",
           "months to death or end of experiment (a duration, as heart survival days)",
           "Stata cancer.dta, patient survival in drug trial"),
    Column(SMF, "stata_cancer", "age", "regression", "patient's age at start of experiment",
           "Stata cancer.dta, patient survival in drug trial"),
    Column(SMF, "lbw", "bwt", "regression", "birth weight (grams)",
           "Hosmer & Lemeshow, low birth weight data"),
    Column(S, "diabetes_raw", "s1", "regression", "tc, total serum cholesterol"),
    Column(S, "diabetes_raw", "s6", "regression", "glu, blood sugar level"),
    Column(SMF, "framing", "age", "regression", "respondent's age (years)",
           "R package mediation, framing"),
    Column(SMF, "pastes", "strength", "regression", "paste strength",
           "R package lme4, Pastes (Davies & Goldsmith 1972)"),
    Column(SMF, "motorcycle", "accel", "regression", "head acceleration (g)",
           "R package MASS, mcycle"),
    Column(SMF, "ologit_ucla", "gpa", "regression", "the student's grade point average",
           "UCLA IDRE ordinal logistic regression example"),
    Column(SM, "scotland", "YES", "regression",
           "Proportion voting yes to granting taxation powers to the Scottish parliament "
           "(stored in percent, 0..100)"),
    Column(SM, "statecrime", "single", "regression",
           "single-parent family households divided by all family households (stored in "
           "percent, 0..100)"),
)

# statsmodels' own test files: data set name -> path inside the statsmodels package
STATSMODELS_FILES = {
    "autos": "gam/tests/results/autos.csv",
    "binary_constrict": "stats/tests/results/binary_constrict.csv",
    "bmt": "duration/tests/results/bmt.csv",
    "cattaneo2": "treatment/tests/results/cataneo2.csv",
    "dietox": "regression/tests/results/dietox.csv",
    "epil": "genmod/tests/results/epil.csv",
    "foodexpenditure": "othermod/tests/results/foodexpenditure.csv",
    "framing": "stats/tests/results/framing.csv",
    "lbw": "genmod/tests/results/stata_lbw_glm.csv",
    "medpar": "genmod/tests/results/stata_medpar1_glm.csv",
    "motorcycle": "gam/tests/results/motorcycle.csv",
    "mvreg": "multivariate/tests/results/mvreg.csv",
    "ologit_ucla": "miscmodels/tests/results/ologit_ucla.csv",
    "pastes": "regression/tests/results/pastes.csv",
    "racd10": "sandbox/regression/tests/racd10data_with_transformed.csv",
    "ships": "discrete/tests/results/ships.csv",
    "stata_cancer": "genmod/tests/results/stata_cancer_glm.csv",
}


def _sklearn(column):
    from sklearn import datasets

    derived = {
        "diabetes_raw": lambda: datasets.load_diabetes(scaled=False, as_frame=True).frame,
        "iris_onehot": lambda: np.eye(3, dtype=int)[datasets.load_iris().target],
        "digits_attributes": lambda: _digit_attributes(datasets.load_digits().target),
    }
    if column.dataset in derived:
        data = derived[column.dataset]()
        return data if isinstance(data, np.ndarray) else data[column.column]
    if column.dataset == "linnerud":
        bunch = datasets.load_linnerud(as_frame=True)
        return bunch.frame[column.column]
    return getattr(datasets, f"load_{column.dataset}")(as_frame=True).frame[column.column]


def _digit_attributes(digit):
    return np.column_stack([digit % 2 == 0, digit > 4, np.isin(digit, (2, 3, 5, 7))]).astype(int)


def _statsmodels(column):
    import statsmodels.datasets as datasets

    def load(name):
        return getattr(datasets, name).load_pandas().data

    if column.dataset == "modechoice_chosen":
        data = load("modechoice")
        return data.loc[data["choice"] == 1, "mode"].reset_index(drop=True)
    if column.dataset == "star98_share":
        data = load("star98")
        return data["NABOVE"] / (data["NABOVE"] + data["NBELOW"])
    if column.dataset == "randhie_health":
        data = load("randhie")
        frame = data[["hlthg", "hlthf", "hlthp"]].copy()
        frame["physlm_any"] = (data["physlm"] > 0).astype(int)
        return frame
    return load(column.dataset)[column.column]


def _statsmodels_files(column):
    if column.dataset == "foodexpenditure_share":
        data = _read_statsmodels_file("foodexpenditure")
        return data["food"] / data["income"]
    data = _read_statsmodels_file(column.dataset)
    return data[column.column].dropna().reset_index(drop=True)


def _read_statsmodels_file(dataset):
    import pandas as pd

    path = resources.files("statsmodels").joinpath(STATSMODELS_FILES[dataset])
    with resources.as_file(path) as local:
        return pd.read_csv(local)


LOADERS = {S: _sklearn, SM: _statsmodels, SMF: _statsmodels_files}


def load(column):
    """The labels of one benchmark column."""
    return LOADERS[column.package](column)


def run(columns=COLUMNS):
    """[(column, Inference)] for every column."""
    from recipes.catalog.infer import infer_problem

    return [(column, infer_problem(load(column))) for column in columns]


def score(results):
    """{type: (columns, top-1 hits, top-2 hits)} per true type, plus 'overall'."""
    table = {}
    for column, found in results:
        ranked = [c.problem for c in found.candidates]
        for key in (column.truth, "overall"):
            n, top1, top2 = table.get(key, (0, 0, 0))
            table[key] = (n + 1, top1 + (ranked[0] == column.truth),
                          top2 + (column.truth in ranked[:2]))
    return table
