"""Reference data for the demo: real administrations, the published criteria, plausible projects.

Figures follow DOMAIN.md. Laureates named there are real; the others are plausible, not real.
"""

# (name, acronym, kind, ministry)
ADMINISTRATIONS = [
    ("Direction générale de la santé", "DGS", "central", "Ministère des Solidarités et de la Santé"),
    ("Direction générale des collectivités locales", "DGCL", "central", "Ministère de l'Intérieur"),
    ("Direction générale de l'alimentation", "DGAL", "central", "Ministère de l'Agriculture et de l'Alimentation"),
    ("Direction générale des finances publiques", "DGFiP", "central", "Ministère de l'Action et des Comptes publics"),
    (
        "Direction générale des douanes et droits indirects",
        "DGDDI",
        "central",
        "Ministère de l'Action et des Comptes publics",
    ),
    ("Direction générale du travail", "DGT", "central", "Ministère du Travail"),
    ("Direction des affaires criminelles et des grâces", "DACG", "central", "Ministère de la Justice"),
    (
        "Direction générale de la prévention des risques",
        "DGPR",
        "central",
        "Ministère de la Transition écologique et solidaire",
    ),
    ("Direction de l'information légale et administrative", "DILA", "central", "Services du Premier ministre"),
    (
        "Direction générale de l'aviation civile",
        "DGAC",
        "central",
        "Ministère de la Transition écologique et solidaire",
    ),
    (
        "Direction générale de la concurrence, de la consommation et de la répression des fraudes",
        "DGCCRF",
        "central",
        "Ministère de l'Économie et des Finances",
    ),
    (
        "Direction de l'évaluation, de la prospective et de la performance",
        "DEPP",
        "central",
        "Ministère de l'Éducation nationale et de la Jeunesse",
    ),
    ("Direction générale de l'offre de soins", "DGOS", "central", "Ministère des Solidarités et de la Santé"),
    ("Direction des affaires maritimes", "DAM", "central", "Ministère de la Transition écologique et solidaire"),
    (
        "Direction départementale des territoires et de la mer de l'Hérault",
        "DDTM 34",
        "deconcentrated",
        "Ministère de la Transition écologique et solidaire",
    ),
    (
        "Direction régionale de l'environnement, de l'aménagement et du logement Auvergne-Rhône-Alpes",
        "DREAL ARA",
        "deconcentrated",
        "Ministère de la Transition écologique et solidaire",
    ),
    ("Direccte Île-de-France", "Direccte IDF", "deconcentrated", "Ministère du Travail"),
    ("Préfecture de la Gironde", "", "deconcentrated", "Ministère de l'Intérieur"),
    (
        "Direction départementale de la protection des populations du Nord",
        "DDPP 59",
        "deconcentrated",
        "Ministère de l'Agriculture et de l'Alimentation",
    ),
    ("Rectorat de l'académie de Lyon", "", "deconcentrated", "Ministère de l'Éducation nationale et de la Jeunesse"),
    (
        "Direction régionale de l'alimentation, de l'agriculture et de la forêt de Bretagne",
        "DRAAF Bretagne",
        "deconcentrated",
        "Ministère de l'Agriculture et de l'Alimentation",
    ),
    (
        "Direction interrégionale de la mer Méditerranée",
        "DIRM Méditerranée",
        "deconcentrated",
        "Ministère de la Transition écologique et solidaire",
    ),
    (
        "Agence centrale des organismes de sécurité sociale",
        "ACOSS",
        "establishment",
        "Ministère de l'Action et des Comptes publics",
    ),
    (
        "Office français de la biodiversité",
        "OFB",
        "establishment",
        "Ministère de la Transition écologique et solidaire",
    ),
    ("Autorité de sûreté nucléaire", "ASN", "establishment", "Autorité administrative indépendante"),
    (
        "Institut de radioprotection et de sûreté nucléaire",
        "IRSN",
        "establishment",
        "Ministère de la Transition écologique et solidaire",
    ),
    ("Pôle emploi", "", "establishment", "Ministère du Travail"),
    ("Caisse nationale de l'assurance maladie", "CNAM", "establishment", "Ministère des Solidarités et de la Santé"),
    ("Météo-France", "", "establishment", "Ministère de la Transition écologique et solidaire"),
    (
        "Institut national de l'information géographique et forestière",
        "IGN",
        "establishment",
        "Ministère de la Transition écologique et solidaire",
    ),
    ("Agence de services et de paiement", "ASP", "establishment", "Ministère de l'Agriculture et de l'Alimentation"),
    (
        "Agence nationale de sécurité du médicament et des produits de santé",
        "ANSM",
        "establishment",
        "Ministère des Solidarités et de la Santé",
    ),
    ("Santé publique France", "", "establishment", "Ministère des Solidarités et de la Santé"),
    (
        "Caisse nationale des allocations familiales",
        "CNAF",
        "establishment",
        "Ministère des Solidarités et de la Santé",
    ),
    ("Voies navigables de France", "VNF", "establishment", "Ministère de la Transition écologique et solidaire"),
    (
        "Agence régionale de santé Occitanie",
        "ARS Occitanie",
        "establishment",
        "Ministère des Solidarités et de la Santé",
    ),
    ("Conseil d'État", "", "court", "Juridiction administrative"),
    ("Cour de cassation", "", "court", "Ministère de la Justice"),
    ("Cour des comptes", "", "court", "Juridiction financière"),
    ("Tribunal judiciaire de Paris", "", "court", "Ministère de la Justice"),
    ("Cour nationale du droit d'asile", "CNDA", "court", "Juridiction administrative"),
    (
        "Université de Strasbourg",
        "",
        "university",
        "Ministère de l'Enseignement supérieur, de la Recherche et de l'Innovation",
    ),
    (
        "Université Grenoble Alpes",
        "UGA",
        "university",
        "Ministère de l'Enseignement supérieur, de la Recherche et de l'Innovation",
    ),
    (
        "Centre national de la recherche scientifique",
        "CNRS",
        "university",
        "Ministère de l'Enseignement supérieur, de la Recherche et de l'Innovation",
    ),
    (
        "Institut national de la recherche agronomique",
        "INRA",
        "university",
        "Ministère de l'Enseignement supérieur, de la Recherche et de l'Innovation",
    ),
    (
        "Muséum national d'Histoire naturelle",
        "MNHN",
        "university",
        "Ministère de l'Enseignement supérieur, de la Recherche et de l'Innovation",
    ),
    (
        "Centre hospitalier universitaire de Toulouse",
        "CHU de Toulouse",
        "hospital",
        "Ministère des Solidarités et de la Santé",
    ),
    (
        "Centre hospitalier universitaire de Bordeaux",
        "CHU de Bordeaux",
        "hospital",
        "Ministère des Solidarités et de la Santé",
    ),
    ("Assistance publique – Hôpitaux de Paris", "AP-HP", "hospital", "Ministère des Solidarités et de la Santé"),
    ("Hospices civils de Lyon", "HCL", "hospital", "Ministère des Solidarités et de la Santé"),
    (
        "Centre hospitalier universitaire de Nantes",
        "CHU de Nantes",
        "hospital",
        "Ministère des Solidarités et de la Santé",
    ),
    (
        "Centre hospitalier universitaire de Lille",
        "CHU de Lille",
        "hospital",
        "Ministère des Solidarités et de la Santé",
    ),
]

# The published criteria of AMI 2 (DOMAIN.md); the weights were not published: ours sum to 100.
CRITERIA = [
    ("Impact et bénéfices attendus", "Impact et bénéfices potentiels pour l'administration et ses usagers.", 25),
    ("Pertinence de l'IA", "Pertinence de l'intelligence artificielle comme réponse au problème posé.", 20),
    ("Faisabilité technique", "Faisabilité du défi technique.", 15),
    ("Équipe", "L'équipe d'agents publics mobilisée sur le projet.", 10),
    ("Données", "Existence et accessibilité des données nécessaires.", 15),
    ("Opportunité", "Intérêt d'expérimenter maintenant.", 5),
    ("Valeur ajoutée de l'accompagnement", "Valeur ajoutée de l'accompagnement DINSIC/DITP pour le projet.", 10),
]

RUBRIC = [
    "0 — absent ou hors sujet",
    "1 — très insuffisant",
    "2 — insuffisant",
    "3 — correct",
    "4 — solide",
    "5 — remarquable",
]

# AMI 2019 laureates: (administration acronym or name, track code, title, summary, requested €)
LAUREATES_2019 = [
    (
        "DGS",
        "technique",
        "Tri des signalements d'événements sanitaires indésirables",
        "Classer automatiquement les signalements reçus sur le portail des événements sanitaires indésirables pour orienter plus vite les cas graves vers les agences compétentes.",
        320000,
    ),
    (
        "CHU de Bordeaux",
        "technique",
        "Recherche sémantique dans le dossier patient informatisé",
        "Permettre aux soignants et aux chercheurs de retrouver des informations cliniques dans les comptes rendus en texte libre, par le sens et non par mots-clés.",
        340000,
    ),
    (
        "DGCL",
        "technique",
        "Aide au contrôle de légalité des actes des collectivités",
        "Repérer, parmi les millions d'actes transmis chaque année par les collectivités, ceux qui présentent un risque juridique, pour concentrer le contrôle des préfectures.",
        330000,
    ),
    (
        "DGDDI",
        "technique",
        "Ciblage des déclarations en douane à risque",
        "Combiner l'historique des contrôles et le texte des déclarations pour mieux cibler les contrôles des marchandises.",
        310000,
    ),
    (
        "DDPP 59",
        "technique",
        "Priorisation des inspections sanitaires des établissements",
        "Prioriser les inspections d'hygiène des établissements de restauration à partir des avis en ligne et des résultats d'inspection passés.",
        280000,
    ),
    (
        "Préfecture de la Gironde",
        "technique",
        "Aide à l'instruction des demandes de titres de séjour",
        "Vérifier la complétude des dossiers déposés en ligne et pré-remplir les fiches d'instruction pour réduire les délais.",
        300000,
    ),
    (
        "CNAF",
        "technique",
        "Réponse assistée aux courriels des allocataires",
        "Analyser les courriels reçus par les caisses d'allocations familiales pour proposer aux agents des réponses types adaptées.",
        330000,
    ),
    (
        "ASP",
        "technique",
        "Contrôle des aides agricoles par imagerie satellitaire",
        "Détecter dans les images Sentinel les parcelles dont la culture déclarée ne correspond pas à la réalité observée.",
        320000,
    ),
    (
        "DILA",
        "technique",
        "Orientation des questions des usagers de service-public.fr",
        "Catégoriser les questions posées par les usagers pour les orienter vers la bonne fiche ou le bon service.",
        290000,
    ),
    (
        "Cour de cassation",
        "technique",
        "Pseudonymisation des décisions de justice pour l'open data",
        "Occulter automatiquement les noms et éléments d'identification des personnes dans les décisions publiées.",
        340000,
    ),
    (
        "HCL",
        "technique",
        "Prévision des durées de séjour hospitalier",
        "Anticiper la durée de séjour dès l'admission pour mieux planifier les lits et les sorties.",
        310000,
    ),
    (
        "IRSN",
        "scientifique",
        "Alertes sur l'exposition des travailleurs aux rayonnements ionisants",
        "Détecter dans les données de dosimétrie les situations d'exposition anormale des travailleurs pour alerter plus tôt.",
        125000,
    ),
    (
        "Météo-France",
        "scientifique",
        "Prévision des épisodes méditerranéens par apprentissage profond",
        "Améliorer la prévision des pluies intenses en combinant modèles physiques et réseaux de neurones.",
        130000,
    ),
    (
        "UGA",
        "scientifique",
        "Modèles de langue pour la recherche juridique",
        "Adapter des modèles de langue au vocabulaire juridique français pour la recherche de textes et de jurisprudence.",
        120000,
    ),
    (
        "Santé publique France",
        "scientifique",
        "Détection précoce d'épidémies à partir des données des urgences",
        "Repérer plus tôt les signaux épidémiques dans les motifs de passage aux urgences rédigés en texte libre.",
        115000,
    ),
]

LAUREATES_2018 = [
    (
        "ACOSS",
        "Agent conversationnel vocal pour le Chèque emploi associatif",
        "Répondre par la voix aux questions fréquentes des associations employeuses sur le Chèque emploi associatif.",
        250000,
    ),
    (
        "OFB",
        "Ciblage des contrôles de police de l'environnement",
        "Orienter les contrôles de police de l'environnement vers les zones et les périodes où les atteintes sont les plus probables.",
        240000,
    ),
    (
        "ASN",
        "Valorisation des lettres de suite d'inspection",
        "Exploiter le contenu des lettres de suite d'inspection pour repérer les sujets récurrents et orienter les inspections.",
        230000,
    ),
    (
        "CHU de Toulouse",
        "Préparation des réunions de concertation pluridisciplinaire en cancérologie",
        "Extraire des dossiers les éléments nécessaires aux réunions de concertation pluridisciplinaire pour en alléger la préparation.",
        260000,
    ),
    (
        "DDTM 34",
        "Détection de l'occupation illicite du sol par imagerie",
        "Repérer dans les images aériennes et satellitaires les constructions et occupations illicites du sol.",
        250000,
    ),
    (
        "DGAL",
        "Ciblage des contrôles sanitaires des restaurants à partir des avis en ligne",
        "Utiliser les avis des consommateurs publiés en ligne pour cibler les contrôles d'hygiène en restauration.",
        240000,
    ),
]

# Plausible, not real, proposals for the others: (title, object of the summary)
THEMES = [
    (
        "Analyse automatique des contributions aux consultations publiques",
        "regrouper par thème les milliers de contributions reçues lors des consultations publiques",
    ),
    (
        "Assistant conversationnel pour l'accueil des usagers",
        "répondre en continu aux questions simples des usagers sur les démarches les plus fréquentes",
    ),
    (
        "Classement automatique des courriers entrants",
        "orienter les courriers numérisés vers le bon service dès leur réception",
    ),
    (
        "Détection d'anomalies dans les demandes de subvention",
        "repérer les dossiers de subvention incohérents avant leur instruction",
    ),
    (
        "Prévision de la fréquentation des accueils",
        "anticiper l'affluence aux guichets pour adapter les plannings des agents",
    ),
    (
        "Aide à la rédaction des réponses aux réclamations",
        "proposer aux agents des éléments de réponse aux réclamations reçues",
    ),
    (
        "Extraction d'informations des pièces de marchés publics",
        "extraire automatiquement les clauses clés des pièces des marchés publics",
    ),
    ("Détection des dépôts sauvages par imagerie", "repérer les dépôts sauvages de déchets dans les images aériennes"),
    (
        "Priorisation des contrôles en entreprise",
        "orienter les contrôles vers les établissements où les risques pour les salariés sont les plus élevés",
    ),
    (
        "Anonymisation des documents administratifs communicables",
        "occulter les données personnelles avant la communication de documents",
    ),
    (
        "Prévision des besoins en lits de réanimation",
        "anticiper les besoins en lits à une semaine à partir des données d'activité",
    ),
    ("Aide au codage des actes médicaux", "suggérer les codes des actes à partir des comptes rendus opératoires"),
    (
        "Recherche de jurisprudence par similarité",
        "retrouver les décisions proches d'une affaire en cours d'instruction",
    ),
    ("Tri des signalements de contenus illicites", "prioriser les signalements reçus selon leur gravité"),
    (
        "Détection des fraudes aux prestations sociales",
        "cibler les contrôles sur les dossiers présentant des incohérences",
    ),
    (
        "Cartographie des haies par imagerie aérienne",
        "produire une carte nationale des haies à partir des orthophotographies",
    ),
    (
        "Suivi de l'érosion du trait de côte",
        "mesurer l'évolution du trait de côte dans les séries d'images satellitaires",
    ),
    (
        "Traduction assistée pour l'accueil des personnes étrangères",
        "faciliter les échanges au guichet avec les personnes non francophones",
    ),
    (
        "Analyse des retours d'expérience d'incidents",
        "tirer des enseignements des milliers de comptes rendus d'incidents",
    ),
    (
        "Orientation des usagers vers le bon interlocuteur",
        "comprendre la demande d'un usager et l'orienter vers le service compétent",
    ),
    (
        "Estimation de la valeur vénale des biens",
        "aider les évaluateurs à estimer la valeur des biens à partir des ventes comparables",
    ),
    ("Contrôle qualité des données de santé", "repérer les erreurs de saisie dans les bases de données de santé"),
    (
        "Lecture automatique des formulaires papier",
        "numériser et structurer les formulaires papier encore reçus par courrier",
    ),
    ("Prévision des crues sur les petits bassins versants", "améliorer l'anticipation des crues rapides"),
    (
        "Repérage précoce du décrochage scolaire",
        "identifier plus tôt les élèves à risque de décrochage pour les accompagner",
    ),
    ("Optimisation des tournées d'inspection", "planifier les tournées d'inspection pour réduire les trajets"),
    ("Analyse des avis des usagers", "comprendre les motifs d'insatisfaction exprimés dans les avis des usagers"),
    (
        "Détection des navires en situation irrégulière",
        "repérer dans les données de position les comportements anormaux de navires",
    ),
    (
        "Indexation des archives audiovisuelles",
        "décrire automatiquement le contenu des archives pour les rendre consultables",
    ),
    (
        "Aide à la décision pour les aides aux entreprises",
        "éclairer l'instruction des demandes d'aides par les données des dossiers passés",
    ),
    (
        "Reconnaissance des espèces sur les images des pièges photographiques",
        "identifier les espèces photographiées pour le suivi de la biodiversité",
    ),
    ("Analyse des comptes rendus d'audit", "rapprocher les constats d'audit pour repérer les risques communs"),
    (
        "Prévision des délais de traitement des dossiers",
        "annoncer aux usagers un délai réaliste de traitement de leur dossier",
    ),
    (
        "Détection des arrêts de travail atypiques",
        "repérer les prescriptions atypiques pour cibler l'accompagnement des médecins",
    ),
    (
        "Surveillance de la qualité de l'eau par capteurs",
        "anticiper les dégradations de la qualité de l'eau à partir des capteurs",
    ),
    (
        "Synthèse automatique des dossiers de procédure",
        "produire une synthèse des pièces d'un dossier volumineux pour le magistrat",
    ),
    (
        "Prévision de la consommation énergétique des bâtiments publics",
        "repérer les bâtiments dont la consommation dérive",
    ),
    (
        "Aide à l'orientation des bacheliers",
        "éclairer les choix d'orientation à partir des parcours des années passées",
    ),
    ("Détection des fuites sur les réseaux d'eau", "localiser les fuites à partir des données de débit et de pression"),
    (
        "Catégorisation des dépenses publiques locales",
        "harmoniser la classification des dépenses dans les comptes des collectivités",
    ),
]

# The body of every demo proposal (the summary varies; the rest is a realistic common text).
PROPOSAL_BODY = {
    "problem": "Aujourd'hui, ce travail est fait à la main par les agents, avec des délais qui pèsent sur les usagers.",
    "data": "Les données sont produites par les applications métier du service ; un extrait anonymisé de plusieurs années est disponible pour l'expérimentation.",
    "ai": "Apprentissage supervisé à partir des décisions passées des agents, avec une évaluation sur un jeu de test tenu à part et une revue humaine de chaque proposition.",
    "benefits": "Gain de temps pour les agents, délais réduits pour les usagers ; mesurés par le temps de traitement moyen et la satisfaction des agents.",
    "team": "Un chef de projet métier, deux agents experts du domaine, un data scientist de la direction du numérique du ministère.",
}

# The two support tracks of AMI 2 (DOMAIN.md): (code, name, envelope €, maximum laureates, description)
TRACKS_2019 = [
    ("technique", "Accompagnement technique et métier", 3_500_000, 11, "Prototype fonctionnel et accompagnement de la transformation métier."),
    ("scientifique", "Accompagnement scientifique", 500_000, 4, "Projets exploratoires, avec un institut de recherche ou une entreprise innovante."),
]

# The eligibility questions of the demo call: (question, help text, the answer that makes a proposal ineligible)
DEMO_ELIGIBILITY_QUESTIONS = [
    ("Le projet est-il porté par une administration de l'État ou un de ses opérateurs ?", "Administrations centrales, services déconcentrés, établissements publics et opérateurs nationaux, juridictions, universités, hôpitaux.", False),
    ("Le projet a-t-il déjà bénéficié d'un financement du même programme ?", "Un projet déjà accompagné par un précédent AMI « Intelligence artificielle » ne peut pas l'être une seconde fois.", True),
]
